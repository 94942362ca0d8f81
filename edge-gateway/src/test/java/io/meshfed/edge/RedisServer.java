package io.meshfed.edge;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A real redis-server (Debian's redis-server package) on 127.0.0.1, without persistence. */
final class RedisServer implements AutoCloseable {
    private final Process process;
    private final int port;

    RedisServer(Path dir) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/redis-server"))) {
            throw new IllegalStateException("redis-server is not installed: apt-get install redis-server"
                    + " (.ci/run installs it)");
        }
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Files.createDirectories(dir);
        process = new ProcessBuilder(List.of("/usr/bin/redis-server", "--port", String.valueOf(port), "--bind",
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

    int port() {
        return port;
    }

    /** Keys matching {@code pattern}, read with redis-cli. */
    List<String> keys(String pattern) throws Exception {
        Process cli = new ProcessBuilder("redis-cli", "-h", "127.0.0.1", "-p", String.valueOf(port), "--scan",
                "--pattern", pattern).redirectErrorStream(true).start();
        String out = new String(cli.getInputStream().readAllBytes());
        cli.waitFor();
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
