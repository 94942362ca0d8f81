package io.meshfed.edge;

import java.time.Clock;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.gateway.event.RefreshRoutesEvent;
import org.springframework.cloud.loadbalancer.annotation.LoadBalancerClients;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;

/** {@code meshfed-edge}: the edge gateway, a Spring Boot application on Spring Cloud Gateway (WebFlux). */
@SpringBootApplication
@EnableConfigurationProperties({EdgeProperties.class, CircuitBreakerProperties.class, ListenerTimeouts.class})
@LoadBalancerClients(defaultConfiguration = FederatedLoadBalancerConfiguration.class)
public class EdgeApplication {
    @Bean
    FederatedRoutes federatedRoutes() {
        return new FederatedRoutes();
    }

    /** The default limiter of {@code RequestRateLimiter}: a local token bucket (see {@link LocalRateLimiter}). */
    @Bean
    LocalRateLimiter localRateLimiter(org.springframework.cloud.gateway.support.ConfigurationService configuration) {
        return new LocalRateLimiter(configuration);
    }

    /** {@code RequestRateLimiter}'s limiter for routes that name none: {@code meshfed.edge.rate-limiter}. */
    @Bean
    @org.springframework.context.annotation.Primary
    DefaultRateLimiter defaultRateLimiter(@org.springframework.beans.factory.annotation.Value(
            "${meshfed.edge.rate-limiter:local}") String kind, LocalRateLimiter local,
            org.springframework.beans.factory.ObjectProvider<
                    org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter> redis) {
        String problem = DefaultRateLimiter.problem(kind);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
        return new DefaultRateLimiter("redis".equals(kind) ? redis.getObject() : local);
    }

    /**
     * While Redis is unreachable, commands fail at once instead of queueing until it is back: the Redis limiter then
     * fails open (lets the request through, as Spring Cloud Gateway's limiter does on errors) within milliseconds,
     * not after the command timeout.
     */
    @Bean
    org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer rejectWhileDisconnected() {
        return options -> options.disconnectedBehavior(io.lettuce.core.ClientOptions.DisconnectedBehavior
                .REJECT_COMMANDS);
    }

    /** Prometheus naming for every meter (see {@link PrometheusConventions}); Spring Boot applies it to each registry. */
    @Bean
    io.micrometer.core.instrument.config.MeterFilter prometheusConventions() {
        return new PrometheusConventions();
    }

    /** {@code lb://} routes send the service's name as {@code Host} (see {@link MeshServiceHost}). */
    @Bean
    MeshServiceHost meshServiceHost() {
        return new MeshServiceHost();
    }

    /** {@code Mirror=URI[,PERCENT]} (see {@link MirrorGatewayFilterFactory}). */
    @Bean
    MirrorGatewayFilterFactory mirrorGatewayFilterFactory(EdgeNode node,
            io.micrometer.core.instrument.MeterRegistry meters) {
        return new MirrorGatewayFilterFactory(node.upstreams()::listener, meters);
    }

    /** {@code meshfed.edge.tls.svid=true}: serve clients with this gateway's SVID (see {@link SvidServerTls}). */
    @Bean
    @org.springframework.boot.autoconfigure.condition.ConditionalOnProperty("meshfed.edge.tls.svid")
    SvidServerTls svidServerTls(EdgeNode node, org.springframework.core.env.Environment environment)
            throws javax.net.ssl.SSLException {
        if (environment.getProperty("server.ssl.enabled", Boolean.class, false)
                || environment.getProperty("server.ssl.certificate") != null
                || environment.getProperty("server.ssl.bundle") != null) {
            throw new IllegalStateException("meshfed.edge.tls.svid and server.ssl.* both configure the client TLS"
                    + " certificate: choose one");
        }
        return new SvidServerTls(node.credentials(),
                environment.getProperty("server.http2.enabled", Boolean.class, true), Clock.systemUTC());
    }

    /** One JSON access line per request (see {@link EdgeAccessLog}), instead of Reactor Netty's text one. */
    @Bean
    EdgeAccessLog edgeAccessLog() {
        return new EdgeAccessLog();
    }

    /** An h2c upgrade request with a body is served as HTTP/1.1 (see {@link CleartextUpgrades}). */
    @Bean
    CleartextUpgrades cleartextUpgrades() {
        return new CleartextUpgrades();
    }

    /** A gRPC upstream's Trailers-Only answer keeps all its trailing metadata (see {@link GrpcTrailersOnly}). */
    @Bean
    GrpcTrailersOnly grpcTrailersOnly() {
        return new GrpcTrailersOnly();
    }

    /** Rate limits apply per client address by default. */
    @Bean
    @org.springframework.context.annotation.Primary
    org.springframework.cloud.gateway.filter.ratelimit.KeyResolver clientAddressKeyResolver() {
        return exchange -> reactor.core.publisher.Mono.just(java.util.Optional.ofNullable(
                exchange.getRequest().getRemoteAddress()).map(a -> a.getAddress().getHostAddress()).orElse("unknown"));
    }

    /** Defaults of every CircuitBreaker filter, from {@code meshfed.edge.circuit-breaker.*}. */
    @Bean
    org.springframework.cloud.client.circuitbreaker.Customizer<
            org.springframework.cloud.circuitbreaker.resilience4j.ReactiveResilience4JCircuitBreakerFactory>
            circuitBreakerDefaults(CircuitBreakerProperties p) {
        return factory -> factory.configureDefault(id -> new org.springframework.cloud.circuitbreaker.resilience4j
                .Resilience4JConfigBuilder(id)
                .circuitBreakerConfig(io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.custom()
                        .slidingWindowSize(p.slidingWindow()).minimumNumberOfCalls(p.minimumCalls())
                        .failureRateThreshold(p.failureRateThreshold()).waitDurationInOpenState(p.openFor())
                        .permittedNumberOfCallsInHalfOpenState(p.halfOpenCalls())
                        .automaticTransitionFromOpenToHalfOpenEnabled(false).build())
                .timeLimiterConfig(io.github.resilience4j.timelimiter.TimeLimiterConfig.custom()
                        .timeoutDuration(p.timeout()).build())
                .build());
    }

    /** Set once the application is ready: from then on every snapshot's routes are built before it is taken. */
    private final java.util.concurrent.atomic.AtomicBoolean ready = new java.util.concurrent.atomic.AtomicBoolean();

    @org.springframework.context.event.EventListener(org.springframework.boot.context.event.ApplicationReadyEvent.class)
    void ready() {
        ready.set(true);
    }

    /**
     * Joins and follows the config stream; each snapshot replaces the controller's routes live, once every route of
     * it builds with this gateway's factories (else it is NACKed naming the route, see {@link RouteBindingCheck}). The
     * cached snapshot applied at start was checked when it was taken, before the factories exist.
     */
    @Bean(destroyMethod = "close")
    EdgeNode edgeNode(EdgeProperties properties, FederatedRoutes routes, ApplicationEventPublisher events,
            org.springframework.context.ApplicationContext context) throws Exception {
        RouteBindingCheck check = new RouteBindingCheck(context);
        return EdgeNode.start(properties, snapshot -> {
            if (ready.get()) {
                check.check(snapshot);
            }
        }, snapshot -> {
            routes.update(snapshot);
            events.publishEvent(new RefreshRoutesEvent(routes));
        }, Clock.systemUTC());
    }

    public static void main(String[] args) {
        // The access log is EdgeAccessLog's (logger meshfed.access, JSON), not Reactor Netty's.
        SpringApplication.run(EdgeApplication.class, args);
    }
}
