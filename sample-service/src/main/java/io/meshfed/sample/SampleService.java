package io.meshfed.sample;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;

/**
 * The quickstart's sample workload, an HTTP server with no dependencies. {@code hello} mode answers every path with
 * a greeting naming the service and its network; {@code echo} mode answers with the request it received (method,
 * path, headers, body). Both answer {@code /healthz} with 200.
 *
 * <pre>java -jar meshfed-sample.jar --mode hello --service hello.demo --network east --listen 127.0.1.3:8080</pre>
 */
public final class SampleService {
    private SampleService() {}

    public static void main(String[] args) throws IOException {
        // The JDK server writes headers and body separately: without TCP_NODELAY, Nagle and delayed ACKs add 40 ms
        // to every keep-alive request.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        Map<String, String> flags = new TreeMap<>(Map.of("--mode", "hello", "--service", "hello.demo",
                "--network", "local", "--listen", "127.0.0.1:8080"));
        for (int i = 0; i < args.length; i += 2) {
            if (!flags.containsKey(args[i]) || i + 1 >= args.length) {
                System.err.println("usage: meshfed-sample [--mode hello|echo] [--service NAME.NAMESPACE]"
                        + " [--network NET] [--listen HOST:PORT]");
                System.exit(2);
            }
            flags.put(args[i], args[i + 1]);
        }
        String mode = flags.get("--mode");
        if (!List.of("hello", "echo").contains(mode)) {
            System.err.println("meshfed-sample: --mode must be hello or echo, not '" + mode + "'");
            System.exit(2);
        }
        String listen = flags.get("--listen");
        int colon = listen.lastIndexOf(':');
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)));
        } catch (RuntimeException e) {
            System.err.println("meshfed-sample: --listen '" + listen + "' must be HOST:PORT");
            System.exit(2);
            return;
        }
        HttpServer server;
        try {
            server = HttpServer.create(address, 128);
        } catch (IOException e) {
            System.err.println("meshfed-sample: cannot listen on " + listen + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        String service = flags.get("--service");
        String network = flags.get("--network");
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/healthz", ex -> respond(ex, "ok\n"));
        server.createContext("/", ex -> respond(ex, mode.equals("hello")
                ? "hello from " + service + " in network " + network + "\n" : echo(ex)));
        server.start();
        System.out.println("meshfed-sample " + mode + " serving " + service + " on http://" + listen);
        System.out.flush();
    }

    private static String echo(HttpExchange ex) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(ex.getRequestMethod()).append(' ').append(ex.getRequestURI()).append('\n');
        new TreeMap<>(ex.getRequestHeaders()).forEach((k, v) -> v.forEach(x -> sb.append(k).append(": ").append(x)
                .append('\n')));
        sb.append('\n').append(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        return sb.toString();
    }

    private static void respond(HttpExchange ex, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
