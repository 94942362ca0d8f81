package io.meshfed.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One long-running process of a test federation: started from its packaged jar, its output in its own log. */
final class Component {
    private final String name;
    private final List<String> command;
    private final Map<String, String> env;
    private final Path log;
    private Process process;

    private Component(String name, List<String> command, Map<String, String> env, Path log) {
        this.name = name;
        this.command = command;
        this.env = env;
        this.log = log;
    }

    /** {@code java -jar <root>/<jar> args...}, logging to {@code logs/<name>.log}. */
    static Component java(Path logs, String name, String jar, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx192m", "-jar",
                Processes.root().resolve(jar).toString()));
        cmd.addAll(List.of(args));
        return new Component(name, cmd, env, logs.resolve(name + ".log"));
    }

    /** Starts the process (again) and waits until its log shows {@code readyMarker}. */
    Component start(String readyMarker) throws IOException, InterruptedException {
        return start(readyMarker, env);
    }

    Component start(String readyMarker, Map<String, String> withEnv) throws IOException, InterruptedException {
        Files.writeString(log, "---- start " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        long offset = Files.size(log);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(withEnv);
        process = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (logSince(offset).contains(readyMarker)) {
                return this;
            }
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + logSince(offset));
            }
            Thread.sleep(100);
        }
        throw new AssertionError(name + " did not log '" + readyMarker + "' within 90 s:\n" + logSince(offset));
    }

    private String logSince(long offset) throws IOException {
        byte[] all = Files.readAllBytes(log);
        return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset),
                StandardCharsets.UTF_8);
    }

    String log() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /**
     * Waits up to 30 s for one {@code meshfed.access} line (a JSON object, written when its connection closes) that
     * holds every fragment.
     */
    void awaitAccessLine(String... fragments) {
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .pollInterval(java.time.Duration.ofMillis(200)).until(() -> java.util.Arrays.stream(log()
                            .split("\n")).anyMatch(l -> l.contains("meshfed.access - {")
                                    && java.util.Arrays.stream(fragments).allMatch(l::contains)));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            String text;
            try {
                text = log();
            } catch (IOException io) {
                text = io.toString();
            }
            throw new AssertionError("no access line with " + java.util.Arrays.toString(fragments) + " in:\n"
                    + text, e);
        }
    }

    /** SIGKILL: no shutdown hook runs. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** SIGTERM, then SIGKILL after 20 s. */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }

    static Duration timeout() {
        return Duration.ofSeconds(60);
    }
}
