package io.meshfed.cli;

import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.ExitCodes;
import io.meshfed.trust.InvalidSpiffeIdException;
import io.meshfed.trust.TrustFormatException;
import io.meshfed.trust.ca.CaException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * Entry point. Errors reach the user as one line, {@code meshfed: <what went wrong>}, and an exit code; a stack trace
 * only with {@code --debug}.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs a command line with the given streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, out, err, System.getenv());
    }

    /** Runs a command line with the given streams and environment; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
        return run(args, new CliContext(env, out, err, Clock.systemUTC()));
    }

    /** Runs a command line in the given context; returns the exit code. */
    public static int run(String[] args, CliContext context) {
        boolean debug = Arrays.asList(args).contains("--debug");
        PrintWriter out = context.out();
        PrintWriter err = context.err();
        CommandLine cli = new CommandLine(new MeshfedCommand(), new CliFactory(context));
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (debug) {
                e.printStackTrace(err);
            }
            err.println("meshfed: " + describe(e));
            err.flush();
            return e instanceof CliException c ? c.exitCode() : ExitCodes.FAILURE;
        });
        cli.setParameterExceptionHandler((ParameterException e, String[] a) -> {
            CommandLine failed = e.getCommandLine();
            err.println("meshfed: " + e.getMessage());
            err.println("Try '" + failed.getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return ExitCodes.USAGE;
        });
        return cli.execute(args);
    }

    static String describe(Exception e) {
        if (e instanceof io.grpc.StatusRuntimeException s) {
            return io.meshfed.cli.admin.AdminClient.describe(s);
        }
        if (e instanceof CliException || e instanceof CaException || e instanceof TrustFormatException
                || e instanceof InvalidSpiffeIdException || e instanceof UncheckedIOException
                || e instanceof IllegalArgumentException) {
            return e.getMessage();
        }
        return "internal error: " + e + " (run again with --debug for details)";
    }
}
