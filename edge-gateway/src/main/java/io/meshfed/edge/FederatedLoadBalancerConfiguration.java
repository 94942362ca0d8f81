package io.meshfed.edge;

import org.springframework.cloud.loadbalancer.core.ServiceInstanceListSupplier;
import org.springframework.cloud.loadbalancer.support.LoadBalancerClientFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Every load-balancer client (one per {@code lb://} service id) gets its instances from the federated catalog.
 * Deliberately not a {@code @Configuration}: Spring Cloud LoadBalancer instantiates it in each client's own
 * context, and component scanning must not put it in the application's.
 */
public class FederatedLoadBalancerConfiguration {
    @Bean
    ServiceInstanceListSupplier federatedInstances(Environment environment, EdgeNode node) {
        return new CatalogInstances(environment.getProperty(LoadBalancerClientFactory.PROPERTY_NAME),
                node.upstreams()::listener);
    }
}
