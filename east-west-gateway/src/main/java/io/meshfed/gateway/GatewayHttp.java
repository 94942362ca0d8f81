package io.meshfed.gateway;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * Plain HTTP for probes and Prometheus: {@code /healthz} (the process runs), {@code /readyz} (a config is in
 * effect), {@code /metrics} (refusals by reason, connections routed and dialed, config applied). Carries no
 * traffic and no secrets, so it needs no TLS.
 */
final class GatewayHttp implements AutoCloseable {
    private final HttpServer server;

    GatewayHttp(InetSocketAddress address, Gateway gateway, BooleanSupplier connectedToController) throws IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (RefusalReason reason : RefusalReason.values()) {
            FunctionCounter.builder("meshfed.gateway.refusals", gateway, g -> g.refusals(reason))
                    .description("Inbound connections closed before reaching a workload, by reason")
                    .tag("reason", reason.label()).register(registry);
        }
        FunctionCounter.builder("meshfed.gateway.inbound.routed", gateway, Gateway::inboundRouted)
                .description("Inbound connections routed to a local workload").register(registry);
        FunctionCounter.builder("meshfed.gateway.outbound.dialed", gateway, Gateway::outboundDialed)
                .description("Outbound connections carried to a remote gateway over mTLS").register(registry);
        Gauge.builder("meshfed.gateway.config.applied", gateway, g -> g.version().isEmpty() ? 0 : 1)
                .description("1 when a config snapshot is in effect").register(registry);
        Gauge.builder("meshfed.gateway.controller.connected", () -> connectedToController.getAsBoolean() ? 1 : 0)
                .description("1 while the config stream to the controller is up").register(registry);
        server = HttpServer.create(address, 16);
        server.createContext("/healthz", ex -> respond(ex, 200, "ok\n"));
        server.createContext("/readyz", ex -> {
            boolean ready = !gateway.version().isEmpty();
            respond(ex, ready ? 200 : 503, ready ? "ready, config " + gateway.version() + "\n" : "no config yet\n");
        });
        server.createContext("/metrics", ex -> respond(ex, 200, registry.scrape()));
        server.start();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
