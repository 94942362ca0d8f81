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
@EnableConfigurationProperties({EdgeProperties.class, CircuitBreakerProperties.class})
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

    /** Joins and follows the config stream; each snapshot replaces the controller's routes live. */
    @Bean(destroyMethod = "close")
    EdgeNode edgeNode(EdgeProperties properties, FederatedRoutes routes, ApplicationEventPublisher events)
            throws Exception {
        return EdgeNode.start(properties, snapshot -> {
            routes.update(snapshot);
            events.publishEvent(new RefreshRoutesEvent(routes));
        }, Clock.systemUTC());
    }

    public static void main(String[] args) {
        // One access log line per request (Reactor Netty's, logger reactor.netty.http.server.AccessLog).
        if (System.getProperty("reactor.netty.http.server.accessLogEnabled") == null) {
            System.setProperty("reactor.netty.http.server.accessLogEnabled", "true");
        }
        SpringApplication.run(EdgeApplication.class, args);
    }
}
