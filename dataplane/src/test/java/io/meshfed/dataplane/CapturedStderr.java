package io.meshfed.dataplane;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Keeps what is written to stderr (where slf4j-simple logs) while still showing it, until closed. */
final class CapturedStderr implements AutoCloseable {
    private final PrintStream original = System.err;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

    CapturedStderr() {
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public synchronized void write(int c) {
                original.write(c);
                kept.write(c);
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                original.write(b, off, len);
                kept.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8));
    }

    String text() {
        synchronized (kept) {
            return kept.toString(StandardCharsets.UTF_8);
        }
    }

    /** The {@code meshfed.access} lines (each one JSON object) written so far. */
    java.util.List<com.fasterxml.jackson.databind.JsonNode> accessLines() throws IOException {
        java.util.List<com.fasterxml.jackson.databind.JsonNode> lines = new java.util.ArrayList<>();
        String marker = AccessRecord.LOGGER + " - ";
        for (String line : text().split("\n")) {
            int at = line.indexOf(marker);
            if (at >= 0) {
                lines.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line.substring(at
                        + marker.length())));
            }
        }
        return lines;
    }

    @Override
    public void close() throws IOException {
        System.setErr(original);
    }
}
