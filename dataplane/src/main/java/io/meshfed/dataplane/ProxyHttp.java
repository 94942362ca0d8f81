package io.meshfed.dataplane;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Plain HTTP for probes and Prometheus: {@code /healthz} (the process runs), {@code /readyz} (a config is in effect),
 * {@code /metrics}. Metric names start with {@code prefix} ({@code meshfed.gateway}, {@code meshfed.agent}). Carries
 * no traffic and no secrets, so it needs no TLS.
 */
public final class ProxyHttp implements AutoCloseable {
    private final HttpServer server;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    /** {@code more} registers the process's own meters. */
    public ProxyHttp(InetSocketAddress address, String prefix, MeshProxy proxy, BooleanSupplier connectedToController,
            Consumer<MeterRegistry> more) throws IOException {
        ProxyStats stats = proxy.stats();
        for (RefusalReason reason : RefusalReason.values()) {
            FunctionCounter.builder(prefix + ".refusals", stats, s -> s.refusals(reason))
                    .description("Inbound connections closed before reaching a workload, by reason"
                            + " (handshake and untrusted_peer are handshake failures)")
                    .tag("reason", reason.label()).register(registry);
        }
        for (UpstreamFailure failure : UpstreamFailure.values()) {
            FunctionCounter.builder(prefix + ".upstream.failures", stats, s -> s.upstreamFailures(failure))
                    .description("Dials to an upstream that failed, by reason").tag("reason", failure.label())
                    .register(registry);
        }
        FunctionCounter.builder(prefix + ".inbound.routed", stats, ProxyStats::inboundRouted)
                .description("Inbound connections carried to an upstream").register(registry);
        FunctionCounter.builder(prefix + ".outbound.carried", stats, ProxyStats::outboundCarried)
                .description("Outbound-listener connections carried to an upstream").register(registry);
        FunctionCounter.builder(prefix + ".outbound.unroutable", stats, ProxyStats::outboundUnroutable)
                .description("Outbound-listener connections no upstream took").register(registry);
        FunctionCounter.builder(prefix + ".received", stats, ProxyStats::bytesFromDownstream)
                .baseUnit("bytes").description("Bytes read from downstream peers").register(registry);
        FunctionCounter.builder(prefix + ".sent", stats, ProxyStats::bytesFromUpstream)
                .baseUnit("bytes").description("Bytes from upstreams written back downstream").register(registry);
        FunctionCounter.builder(prefix + ".idle.closed", stats, ProxyStats::idleClosed)
                .description("Connections closed by the idle timeout").register(registry);
        Gauge.builder(prefix + ".connections.active", stats, ProxyStats::active)
                .description("Relayed connections open now").register(registry);
        Gauge.builder(prefix + ".upstreams.ejected", proxy, MeshProxy::ejectedUpstreams)
                .description("Upstreams ejected by passive health now").register(registry);
        Gauge.builder(prefix + ".config.applied", proxy, p -> p.routes().version().isEmpty() ? 0 : 1)
                .description("1 when a config snapshot is in effect").register(registry);
        Gauge.builder(prefix + ".controller.connected", () -> connectedToController.getAsBoolean() ? 1 : 0)
                .description("1 while the config stream to the controller is up").register(registry);
        more.accept(registry);
        server = HttpServer.create(address, 16);
        server.createContext("/healthz", ex -> respond(ex, 200, "ok\n"));
        server.createContext("/readyz", ex -> {
            String version = proxy.routes().version();
            respond(ex, version.isEmpty() ? 503 : 200, version.isEmpty() ? "no config yet\n"
                    : "ready, config " + version + "\n");
        });
        server.createContext("/metrics", ex -> respond(ex, 200,
                registry.scrape() + "# config version in effect\n" + prefix.replace('.', '_') + "_config_info{version=\""
                        + proxy.routes().version() + "\"} 1\n"));
        server.start();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        registry.close();
    }
}
