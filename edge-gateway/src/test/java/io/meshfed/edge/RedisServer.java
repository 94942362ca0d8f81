package io.meshfed.edge;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real redis-server on 127.0.0.1, without persistence: Debian's ({@code /usr/bin/redis-server}, which .ci/run
 * installs) when present, else the Linux binary that the embedded-redis artifact on Maven Central carries.
 */
final class RedisServer implements AutoCloseable {
    private final Process process;
    private final int port;

    RedisServer(Path dir) throws Exception {
        Path binary = Files.isExecutable(Path.of("/usr/bin/redis-server")) ? Path.of("/usr/bin/redis-server")
                : bundled(dir);
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Files.createDirectories(dir);
        process = new ProcessBuilder(List.of(binary.toString(), "--port", String.valueOf(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    close();
                    throw new IllegalStateException("redis-server did not start; see " + dir.resolve("redis.log"));
                }
                Thread.sleep(50);
            }
        }
    }

    private static Path bundled(Path dir) throws IOException {
        String resource = "/redis-server-6.2.6-v5-linux-amd64";
        Files.createDirectories(dir);
        Path target = dir.resolve("redis-server");
        try (var in = RedisServer.class.getResourceAsStream(resource)) {
            if (in == null || !"amd64".equals(System.getProperty("os.arch"))) {
                throw new IllegalStateException("no redis-server: apt-get install redis-server");
            }
            Files.copy(in, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        target.toFile().setExecutable(true, true);
        return target;
    }

    int port() {
        return port;
    }

    /** Keys matching {@code pattern}, read with a Redis client. */
    List<String> keys(String pattern) {
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create("redis://127.0.0.1:" + port);
        try (var connection = client.connect()) {
            return connection.sync().keys(pattern);
        } finally {
            client.shutdown();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
