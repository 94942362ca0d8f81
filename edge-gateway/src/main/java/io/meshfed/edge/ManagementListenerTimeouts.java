package io.meshfed.edge;

import org.springframework.boot.reactor.netty.NettyReactiveWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;

/**
 * The management server (its own child context on {@code management.server.port}) gets a plain web server factory
 * that does not see the application's {@link org.springframework.boot.reactor.netty.NettyServerCustomizer}s; this
 * gives it the same {@link ListenerTimeouts}. Imported into the management context by
 * {@code META-INF/spring/org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration.imports}.
 * Deliberately not annotated ({@code @ManagementContextConfiguration} is a {@code @Configuration}, which the
 * application's component scan would pick up as well); unannotated, it counts as "any management context", and on
 * a shared port it merely adds the same customizer twice, which {@link ListenerTimeouts} tolerates.
 */
class ManagementListenerTimeouts {
    @Bean
    WebServerFactoryCustomizer<NettyReactiveWebServerFactory> managementServerTimeouts(ListenerTimeouts timeouts) {
        return factory -> factory.addServerCustomizers(timeouts);
    }
}
