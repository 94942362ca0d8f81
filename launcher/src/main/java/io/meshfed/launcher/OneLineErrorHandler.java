package io.meshfed.launcher;

import static java.util.Objects.requireNonNull;

import java.util.function.Function;
import picocli.CommandLine;

/**
 * picocli's handler for a command that failed while running: one line {@code <program>: <what went wrong>} on the
 * command's error stream (a stack trace after it only when asked for) and exit code {@value #EXIT_CODE}.
 * Parameter errors stay picocli's (usage and exit code 2).
 */
public final class OneLineErrorHandler implements CommandLine.IExecutionExceptionHandler {
    /** The exit code of a command that failed. */
    public static final int EXIT_CODE = 1;

    private final String program;
    private final Function<Exception, String> describe;
    private final boolean stackTrace;

    /** The exception's message (its {@code toString()} when it has none), no stack trace. */
    public OneLineErrorHandler(String program) {
        this(program, OneLineErrorHandler::messageOf, false);
    }

    public OneLineErrorHandler(String program, Function<Exception, String> describe, boolean stackTrace) {
        this.program = requireNonNull(program, "program");
        this.describe = requireNonNull(describe, "describe");
        this.stackTrace = stackTrace;
    }

    /** The message of {@code e}, or {@code e.toString()} (its class name) when it has none. */
    public static String messageOf(Throwable e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine commandLine, CommandLine.ParseResult parsed) {
        commandLine.getErr().println(program + ": " + describe.apply(e));
        if (stackTrace) {
            e.printStackTrace(commandLine.getErr());
        }
        commandLine.getErr().flush();
        return EXIT_CODE;
    }
}
