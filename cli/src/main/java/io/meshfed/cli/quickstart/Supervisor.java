package io.meshfed.cli.quickstart;

import io.meshfed.cli.context.CliException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts the quickstart's processes with their output in a log file each, waits for each to say it is ready, and
 * stops them all in reverse order (SIGTERM, so they withdraw and drain; SIGKILL after a grace period).
 */
final class Supervisor implements AutoCloseable {
    /** One started process. */
    record Child(String name, Process process, Path log) {
        long pid() {
            return process.pid();
        }
    }

    private final Path logs;
    private final Deque<Child> running = new ArrayDeque<>();

    Supervisor(Path logs) throws IOException {
        this.logs = Files.createDirectories(logs);
    }

    /** Starts {@code command} with its output (stdout and stderr) in {@code logs/<name>.log}. */
    synchronized Child start(String name, List<String> command, Map<String, String> env) {
        Path log = logs.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        try {
            Child c = new Child(name, pb.start(), log);
            running.push(c);
            return c;
        } catch (IOException e) {
            throw new CliException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    /** Runs a command to completion; fails with the tail of its log when it exits non-zero. */
    void runToCompletion(String name, List<String> command, Map<String, String> env, Duration timeout) {
        Child c = start(name, command, env);
        try {
            if (!c.process().waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                c.process().destroyForcibly();
                throw new CliException(name + " did not finish within " + timeout.toSeconds() + " s; log: " + c.log());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted while " + name + " ran");
        }
        synchronized (this) {
            running.remove(c);
        }
        if (c.process().exitValue() != 0) {
            throw new CliException(name + " failed (exit " + c.process().exitValue() + "): " + tail(c.log()));
        }
    }

    /** Waits until the child's log contains {@code marker}; fails fast if it exits first. */
    void awaitReady(Child c, String marker, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (read(c.log()).contains(marker)) {
                return;
            }
            if (!c.process().isAlive()) {
                throw new CliException(c.name() + " exited (code " + c.process().exitValue() + ") before it was"
                        + " ready: " + tail(c.log()));
            }
            sleep(100);
        }
        throw new CliException(c.name() + " was not ready within " + timeout.toSeconds() + " s; log: " + c.log());
    }

    private static String read(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The last meaningful lines of a log, joined for one error line. */
    static String tail(Path log) {
        String[] lines = read(log).strip().split("\n");
        List<String> last = new ArrayList<>();
        for (int i = Math.max(0, lines.length - 3); i < lines.length; i++) {
            if (!lines[i].isBlank()) {
                last.add(lines[i].strip());
            }
        }
        return (last.isEmpty() ? "(no output)" : String.join(" | ", last)) + " (log: " + log + ")";
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }

    /**
     * Stops every child: all but the first-started (the controller) together, so agents and gateways can still
     * withdraw through it; then the controller. SIGTERM first, SIGKILL for what has not exited after 15 s.
     */
    @Override
    public synchronized void close() {
        List<Child> all = new ArrayList<>(running); // newest first
        running.clear();
        if (all.isEmpty()) {
            return;
        }
        Child first = all.remove(all.size() - 1);
        stop(all);
        stop(List.of(first));
    }

    private static void stop(List<Child> children) {
        children.forEach(c -> c.process().destroy());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        for (Child c : children) {
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                if (!c.process().waitFor(left, TimeUnit.NANOSECONDS)) {
                    c.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                c.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
