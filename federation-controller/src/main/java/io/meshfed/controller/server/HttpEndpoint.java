package io.meshfed.controller.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.tls.SpiffeTls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * HTTPS for operators and tools: {@code /healthz}, {@code /readyz}, Prometheus {@code /metrics} (no client
 * certificate needed), and the JSON admin API under {@code /v1/admin/} (an admin SVID needed). The controller's SVID
 * serves it; clients that present a certificate are verified like gRPC peers.
 */
public final class HttpEndpoint implements AutoCloseable {
    /** Handles one JSON admin call: method name and request body → status code and response body. */
    public interface AdminHandler {
        Response handle(String method, String body, Optional<SpiffeId> caller);
    }

    /** An HTTP response. */
    public record Response(int status, String contentType, String body) {}

    private final HttpsServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "controller-http");
        t.setDaemon(true);
        return t;
    });

    public HttpEndpoint(InetSocketAddress address, SSLContext tls, BooleanSupplier ready, Supplier<String> metrics,
            AdminHandler admin) throws IOException {
        server = HttpsServer.create(address, 64);
        server.setHttpsConfigurator(new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = tls.getDefaultSSLParameters();
                p.setProtocols(new String[] {SpiffeTls.TLS_13});
                p.setWantClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        server.createContext("/healthz", ex -> respond(ex, new Response(200, "text/plain", "ok\n")));
        server.createContext("/readyz", ex -> respond(ex, ready.getAsBoolean()
                ? new Response(200, "text/plain", "ready\n") : new Response(503, "text/plain", "not ready\n")));
        server.createContext("/metrics", ex -> respond(ex,
                new Response(200, "text/plain; version=0.0.4; charset=utf-8", metrics.get())));
        server.createContext("/v1/admin/", ex -> {
            if (!"POST".equals(ex.getRequestMethod())) {
                respond(ex, new Response(405, "application/json", "{\"error\":\"use POST with a JSON body\"}\n"));
                return;
            }
            String method = ex.getRequestURI().getPath().substring("/v1/admin/".length());
            String body;
            try (InputStream in = ex.getRequestBody()) {
                body = new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8);
            }
            Optional<SpiffeId> caller = ex instanceof HttpsExchange https
                    ? SpiffeTls.peerId(https.getSSLSession()) : Optional.empty();
            respond(ex, admin.handle(method, body, caller));
        });
        server.setExecutor(executor);
        server.start();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private static void respond(HttpExchange ex, Response response) throws IOException {
        byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", response.contentType());
        ex.sendResponseHeaders(response.status(), bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
