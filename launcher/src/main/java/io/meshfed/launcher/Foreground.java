package io.meshfed.launcher;

import static java.util.Objects.requireNonNull;

import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * Serves a started process in the foreground until SIGTERM or Ctrl-C: registers a shutdown hook that closes it,
 * then prints its ready line (which supervisors, the quickstart and the e2e tests wait for), then waits until the
 * hook has closed it. A failure while closing is reported as one line on the error stream.
 */
public final class Foreground {
    private final String program;
    private final PrintStream out;
    private final PrintStream err;
    private final Consumer<Thread> shutdownHooks;

    /** {@code shutdownHooks} registers a hook (normally {@code Runtime.getRuntime()::addShutdownHook}). */
    public Foreground(String program, PrintStream out, PrintStream err, Consumer<Thread> shutdownHooks) {
        this.program = requireNonNull(program, "program");
        this.out = requireNonNull(out, "out");
        this.err = requireNonNull(err, "err");
        this.shutdownHooks = requireNonNull(shutdownHooks, "shutdownHooks");
    }

    /** For this JVM: standard out and error, and the runtime's shutdown hooks. */
    public static Foreground of(String program) {
        return new Foreground(program, System.out, System.err, Runtime.getRuntime()::addShutdownHook);
    }

    /**
     * Closes {@code running} at shutdown, prints {@code readyLine}, and returns 0 once it is closed.
     *
     * @throws InterruptedException when the waiting thread is interrupted before shutdown
     */
    public int serveUntilShutdown(AutoCloseable running, String readyLine) throws InterruptedException {
        requireNonNull(running, "running");
        requireNonNull(readyLine, "readyLine");
        CountDownLatch stopped = new CountDownLatch(1);
        shutdownHooks.accept(new Thread(() -> {
            try {
                running.close();
            } catch (Exception e) {
                err.println(program + ": while stopping: " + OneLineErrorHandler.messageOf(e));
                err.flush();
            } finally {
                stopped.countDown();
            }
        }, program + "-shutdown"));
        out.println(readyLine);
        out.flush();
        stopped.await();
        return 0;
    }
}
