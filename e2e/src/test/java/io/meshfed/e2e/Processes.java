package io.meshfed.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real process to completion with a deadline, capturing its output. */
final class Processes {
    record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private Processes() {}

    /** A free TCP port on 127.0.0.1 (closed again; the caller binds it right away). */
    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static Path root() {
        return Path.of(System.getProperty("meshfed.root", "..")).toAbsolutePath().normalize();
    }

    static Result run(Path workDir, Duration timeout, List<String> command) throws IOException, InterruptedException {
        return run(workDir, timeout, command, java.util.Map.of());
    }

    static Result run(Path workDir, Duration timeout, List<String> command, java.util.Map<String, String> env)
            throws IOException, InterruptedException {
        Path out = java.nio.file.Files.createTempFile("e2e", ".out");
        Path err = java.nio.file.Files.createTempFile("e2e", ".err");
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().putAll(env);
        Process p = builder.start();
        try {
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                throw new AssertionError(command + " did not finish in " + timeout + ":\n"
                        + java.nio.file.Files.readString(out) + java.nio.file.Files.readString(err));
            }
            return new Result(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.UTF_8),
                    java.nio.file.Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            java.nio.file.Files.deleteIfExists(out);
            java.nio.file.Files.deleteIfExists(err);
        }
    }
}
