package io.meshfed.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class OneLineErrorHandlerTest {
    @Command(name = "failing")
    static final class Failing implements Callable<Integer> {
        @Option(names = "--port")
        int port;

        private final Exception failure;

        Failing(Exception failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() throws Exception {
            throw failure;
        }
    }

    private record Run(int exitCode, String out, String err) {}

    private static Run run(Exception failure, OneLineErrorHandler handler, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Failing(failure));
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        cli.setExecutionExceptionHandler(handler);
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void aFailedCommandPrintsOneLineNamingTheProgramAndExitsWithOne() {
        Run r = run(new IllegalStateException("/var/lib/meshfed holds no identity"),
                new OneLineErrorHandler("meshfed-gateway"));
        assertThat(r.exitCode()).isEqualTo(1).isEqualTo(OneLineErrorHandler.EXIT_CODE);
        assertThat(r.err()).isEqualTo("meshfed-gateway: /var/lib/meshfed holds no identity" + System.lineSeparator());
        assertThat(r.out()).isEmpty();
    }

    @Test
    void anExceptionWithoutAMessageIsNamedByItsClass() {
        Run r = run(new NullPointerException(), new OneLineErrorHandler("meshfed-agent"));
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("meshfed-agent: java.lang.NullPointerException" + System.lineSeparator());
    }

    @Test
    void aLauncherMayDescribeTheFailureItselfAndAddTheStackTraceAfterTheLine() {
        Run r = run(new java.io.IOException("wrapped", new java.net.BindException("Address already in use")),
                new OneLineErrorHandler("meshfed", e -> "cannot listen: " + e.getCause().getMessage(), true));
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("meshfed: cannot listen: Address already in use" + System.lineSeparator()
                + "java.io.IOException: wrapped").contains("\tat ")
                .contains("Caused by: java.net.BindException: Address already in use");
    }

    @Test
    void withoutTheStackTraceOptionNoFrameIsPrinted() {
        Run r = run(new IllegalArgumentException("--listen 'x' must be HOST:PORT"),
                new OneLineErrorHandler("meshfed", OneLineErrorHandler::messageOf, false));
        assertThat(r.err()).isEqualTo("meshfed: --listen 'x' must be HOST:PORT" + System.lineSeparator())
                .doesNotContain("\tat ");
    }

    @Test
    void parameterErrorsStayPicocliUsageErrorsWithExitCodeTwo() {
        Run r = run(new IllegalStateException("not reached"), new OneLineErrorHandler("meshfed-gateway"),
                "--port", "eighty");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid value for option '--port': 'eighty' is not an int")
                .doesNotContain("not reached");
    }
}
