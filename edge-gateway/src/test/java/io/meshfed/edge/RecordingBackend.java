package io.meshfed.edge;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP upstream that records every request it gets (method, path and query, headers, body) and answers
 * "{name} {path}". A path containing {@code /sleep} is answered after 3 s.
 */
final class RecordingBackend implements AutoCloseable {
    record Request(String method, String pathAndQuery, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final HttpServer server;
    private final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();

    RecordingBackend(String name) throws IOException {
        System.setProperty("sun.net.httpserver.nodelay", "true");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", ex -> {
            Map<String, String> headers = new TreeMap<>();
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(",", v)));
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(new Request(ex.getRequestMethod(), ex.getRequestURI().toString(), headers, body));
            if (ex.getRequestURI().getPath().contains("/sleep")) {
                try {
                    Thread.sleep(3000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] bytes = (name + " " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("X-Backend-Secret", "internal");
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    String uri() {
        return "http://127.0.0.1:" + port();
    }

    /** The request for {@code pathAndQuery} (others are skipped), waiting up to 10 s; null when none came. */
    Request next(String pathAndQuery) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Request r = requests.poll(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
            if (r != null && r.pathAndQuery().equals(pathAndQuery)) {
                return r;
            }
        }
        return null;
    }

    void clear() {
        requests.clear();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
