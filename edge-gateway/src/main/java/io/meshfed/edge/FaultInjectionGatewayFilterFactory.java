package io.meshfed.edge;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.factory.AbstractGatewayFilterFactory;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * {@code FaultInjection}: for testing resilience, delays a share of requests and aborts a share with a status, as
 * a mesh's fault injection does. Named arguments: {@code delay-percent} (0-100) and {@code delay} (e.g. 500ms),
 * {@code abort-percent} (0-100) and {@code abort-status} (default 503). Affected responses carry
 * {@code X-Meshfed-Fault: delay} or {@code abort}.
 */
@Component
public class FaultInjectionGatewayFilterFactory
        extends AbstractGatewayFilterFactory<FaultInjectionGatewayFilterFactory.Config> {
    static final String HEADER = "X-Meshfed-Fault";

    public static class Config {
        private int delayPercent;
        private Duration delay = Duration.ZERO;
        private int abortPercent;
        private int abortStatus = 503;

        public int getDelayPercent() {
            return delayPercent;
        }

        public void setDelayPercent(int delayPercent) {
            this.delayPercent = percent("delay-percent", delayPercent);
        }

        public Duration getDelay() {
            return delay;
        }

        public void setDelay(Duration delay) {
            this.delay = delay;
        }

        public int getAbortPercent() {
            return abortPercent;
        }

        public void setAbortPercent(int abortPercent) {
            this.abortPercent = percent("abort-percent", abortPercent);
        }

        public int getAbortStatus() {
            return abortStatus;
        }

        public void setAbortStatus(int abortStatus) {
            HttpStatus.valueOf(abortStatus); // an unknown status is an error at route build time
            this.abortStatus = abortStatus;
        }

        private static int percent(String name, int value) {
            if (value < 0 || value > 100) {
                throw new IllegalArgumentException("FaultInjection " + name + " must be 0-100, not " + value);
            }
            return value;
        }
    }

    public FaultInjectionGatewayFilterFactory() {
        super(Config.class);
    }

    @Override
    public List<String> shortcutFieldOrder() {
        return List.of("abortPercent", "abortStatus");
    }

    @Override
    public GatewayFilter apply(Config config) {
        return (exchange, chain) -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            if (random.nextInt(100) < config.getAbortPercent()) {
                exchange.getResponse().setStatusCode(HttpStatus.valueOf(config.getAbortStatus()));
                exchange.getResponse().getHeaders().set(HEADER, "abort");
                return exchange.getResponse().setComplete();
            }
            if (random.nextInt(100) < config.getDelayPercent() && !config.getDelay().isZero()) {
                exchange.getResponse().getHeaders().set(HEADER, "delay");
                return Mono.delay(config.getDelay()).then(chain.filter(exchange));
            }
            return chain.filter(exchange);
        };
    }
}
