package io.meshfed.edge;

import static org.springframework.cloud.gateway.support.ServerWebExchangeUtils.GATEWAY_LOADBALANCER_RESPONSE_ATTR;
import static org.springframework.cloud.gateway.support.ServerWebExchangeUtils.PRESERVE_HOST_HEADER_ATTRIBUTE;

import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.loadbalancer.Response;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.filter.ReactiveLoadBalancerClientFilter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The {@code Host} an {@code lb://name.namespace} route sends upstream: the service's name ({@code hello.demo}),
 * not the address of the in-process mesh listener the load balancer chose ({@code localhost:<port>}). A route with
 * Spring Cloud Gateway's {@code PreserveHostHeader} filter keeps the client's {@code Host}. Runs right after the
 * load-balancer filter, and hands the name to the routing filter the way {@code PreserveHostHeader} does: as the
 * request's {@code Host} with {@link org.springframework.cloud.gateway.support.ServerWebExchangeUtils
 * #PRESERVE_HOST_HEADER_ATTRIBUTE} set.
 */
final class MeshServiceHost implements GlobalFilter, Ordered {
    static final int ORDER = ReactiveLoadBalancerClientFilter.LOAD_BALANCER_CLIENT_FILTER_ORDER + 1;

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
        Response<ServiceInstance> chosen = exchange.getAttribute(GATEWAY_LOADBALANCER_RESPONSE_ATTR);
        if (chosen == null || !chosen.hasServer() || exchange.getAttributeOrDefault(PRESERVE_HOST_HEADER_ATTRIBUTE,
                false)) {
            return chain.filter(exchange);
        }
        String service = chosen.getServer().getServiceId();
        exchange.getAttributes().put(PRESERVE_HOST_HEADER_ATTRIBUTE, true);
        return chain.filter(exchange.mutate().request(r -> r.headers(h -> h.set(HttpHeaders.HOST, service)))
                .build());
    }

    @Override
    public int getOrder() {
        return ORDER;
    }
}
