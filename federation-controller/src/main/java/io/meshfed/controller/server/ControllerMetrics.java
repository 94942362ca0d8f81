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

    /**
     * A member cluster's connector event: {@code resync} (endpoints or imports written) or {@code watch_error}; also
     * counted as the member's event of type {@code kubernetes}.
     */
    public void cluster(String cluster, String event) {
        Counter.builder("meshfed.cluster.events").description("Kubernetes connector resyncs and watch errors")
                .tag("cluster", cluster).tag("event", event).register(registry).increment();
        member(cluster, "kubernetes", event);
    }

    /**
     * A member connector's event, for every member kind ({@code meshfed_member_events_total{member,type,event}}):
     * {@code resync}, {@code watch_error}, {@code stale}, {@code withdrawn}, {@code endpoint_refused}, ...
     */
    public void member(String member, String type, String event) {
        Counter.builder("meshfed.member.events").description("Member connector events (resyncs, errors, outages)")
                .tag("member", member).tag("type", type).tag("event", event).register(registry).increment();
    }

    /** {@code meshfed_member_connected{member,type}}: 1 while the member's connector is synced with it. */
    public void memberConnected(String member, String type, Supplier<Number> value) {
        io.micrometer.core.instrument.Gauge.builder("meshfed.member.connected", value)
                .description("1 while the member's connector is synced with it").tag("member", member)
                .tag("type", type).strongReference(true).register(registry);
    }

    /** Drops a removed member's gauges. */
    public void forgetMember(String member) {
        registry.getMeters().stream().filter(m -> member.equals(m.getId().getTag("member")))
                .filter(m -> m instanceof io.micrometer.core.instrument.Gauge).toList().forEach(registry::remove);
    }

    /** A gauge per member cluster, e.g. whether its API server is reachable. */
    public void clusterGauge(String name, String description, String cluster, Supplier<Number> value) {
        io.micrometer.core.instrument.Gauge.builder(name, value).description(description).tag("cluster", cluster)
                .strongReference(true).register(registry);
    }

    /** Drops a removed cluster's gauges. */
    public void forgetCluster(String cluster) {
        registry.getMeters().stream().filter(m -> cluster.equals(m.getId().getTag("cluster")))
                .filter(m -> m instanceof io.micrometer.core.instrument.Gauge).toList().forEach(registry::remove);
        forgetMember(cluster);
    }

    public void join(boolean success, String reason) {
        Counter.builder("meshfed.join").description("Join and renew attempts by result and reason")
                .tag("result", success ? "success" : "failure").tag("reason", reason).register(registry).increment();
    }

    /** A reported workload left out of its report, by reason (scope, no_inbound, port_quota, ...). */
    public void registrationRefused(String reason) {
        Counter.builder("meshfed.registration.refusals")
                .description("Reported workloads refused, by reason (the rest of each report is applied)")
                .tag("reason", reason).register(registry).increment();
    }

    /**
     * A call or config stream refused before it reached its service: {@code call} is {@code config_stream} or
     * {@code grpc}, {@code reason} e.g. {@code revoked} or {@code stream_limit}.
     */
    public void refused(String call, String reason) {
        Counter.builder("meshfed.refusals").description("Calls and config streams refused, by kind and reason")
                .tag("call", call).tag("reason", reason).register(registry).increment();
    }

    /** A push went out: {@code kind} "whole" or "delta", of {@code bytes} (without the per-push nonce). */
    public void pushed(String kind, long bytes) {
        pushes.increment();
        // Built once per kind, not a builder and a registry lookup on every push.
        pushBytes.computeIfAbsent(kind, k -> Counter.builder("meshfed.config.push").baseUnit("bytes").tag("kind", k)
                .description("Bytes of config pushed to subscribers, whole snapshots and deltas").register(registry))
                .increment(bytes);
        pushMessages.computeIfAbsent(kind, k -> Counter.builder("meshfed.config.push.messages").tag("kind", k)
                .description("Config pushes by kind: whole snapshots and deltas").register(registry)).increment();
    }

    private final java.util.Map<String, Counter> pushBytes = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<String, Counter> pushMessages = new java.util.concurrent.ConcurrentHashMap<>();

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
