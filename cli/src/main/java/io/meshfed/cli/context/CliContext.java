package io.meshfed.cli.context;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.Map;

/**
 * What a command reads from the process it runs in: the environment ({@code MESHFED_HOME}, {@code MESHFED_ROOT},
 * ...), where its output and errors go, and the clock certificates are checked against. {@code Main} makes one per
 * run and picocli's factory hands it to every command that takes it in its constructor; tests give their own.
 */
public record CliContext(Map<String, String> environment, PrintWriter out, PrintWriter err, Clock clock) {
    public CliContext {
        environment = Map.copyOf(environment);
    }
}
