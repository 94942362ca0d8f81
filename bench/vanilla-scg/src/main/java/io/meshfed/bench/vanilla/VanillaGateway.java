package io.meshfed.bench.vanilla;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * Spring Cloud Gateway as it comes: no filters, predicates or beans of our own. bench/edge/run.sh gives it one
 * static route on the command line ({@code spring.cloud.gateway.server.webflux.routes[0]...}).
 */
@SpringBootApplication
public class VanillaGateway {
    public static void main(String[] args) {
        SpringApplication.run(VanillaGateway.class, args);
    }
}
