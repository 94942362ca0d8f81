package io.meshfed.controller.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.function.Supplier;

/** The controller's Prometheus metrics; {@link #scrape()} is what /metrics serves. */
public final class ControllerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter pushes;
    private final Counter nacks;
    private final Timer ackLatency;

    public ControllerMetrics() {
        pushes = Counter.builder("meshfed.config.pushes").description("Snapshots sent to subscribers")
                .register(registry);
        nacks = Counter.builder("meshfed.config.nacks").description("Snapshots rejected by subscribers")
                .register(registry);
        ackLatency = Timer.builder("meshfed.config.push.ack")
                .description("From sending a snapshot to its acknowledgement").publishPercentiles(0.5, 0.99)
                .register(registry);
    }

    public void gauge(String name, String description, Supplier<Number> value) {
        io.micrometer.core.instrument.Gauge.builder(name, value).description(description).register(registry);
    }

    public void join(boolean success, String reason) {
        Counter.builder("meshfed.join").description("Join and renew attempts by result and reason")
                .tag("result", success ? "success" : "failure").tag("reason", reason).register(registry).increment();
    }

    public void pushed() {
        pushes.increment();
    }

    public void nacked() {
        nacks.increment();
    }

    public void acked(Duration sinceSent) {
        ackLatency.record(sinceSent);
    }

    public String scrape() {
        return registry.scrape();
    }
}
