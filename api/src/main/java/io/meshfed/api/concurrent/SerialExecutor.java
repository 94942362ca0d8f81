package io.meshfed.api.concurrent;

import static java.util.Objects.requireNonNull;

import io.grpc.SynchronizationContext;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread a component's state lives on. Tasks run one at a time, in the order they were handed in, on a
 * thread of the component's name, through grpc-java's {@link SynchronizationContext}; timers come from an injected
 * {@link ScheduledExecutorService} (a fake one in tests) and only hand their task back here, so no component work
 * runs on a timer thread. Methods that touch the component's state call {@link #checkInContext()}, which fails
 * loudly when called from anywhere else.
 */
public final class SerialExecutor implements Executor {
    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);

    private final String name;
    private final ExecutorService thread;
    private final ScheduledExecutorService timer;
    private final SynchronizationContext context;
    private volatile boolean shutdown;

    private SerialExecutor(String name, ScheduledExecutorService timer) {
        this.name = requireNonNull(name, "name");
        this.timer = requireNonNull(timer, "timer");
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        this.context = new SynchronizationContext((t, e) ->
                LOG.error("{}: a task failed; the component goes on with the next one", name, e));
    }

    /** A component's serial executor on a daemon thread named {@code name}, with timers from {@code timer}. */
    public static SerialExecutor start(String name, ScheduledExecutorService timer) {
        return new SerialExecutor(name, timer);
    }

    public String name() {
        return name;
    }

    /**
     * Runs {@code task} on the component's thread after every task handed in before it.
     *
     * @throws RejectedExecutionException after {@link #shutdown}
     */
    @Override
    public void execute(Runnable task) {
        requireNonNull(task, "task");
        if (shutdown) {
            throw new RejectedExecutionException(name + " is shut down");
        }
        context.executeLater(task);
        thread.execute(context::drain);
    }

    /** As {@link #execute}, but a task handed in after shutdown is dropped (callbacks of a closing component). */
    public void executeIfRunning(Runnable task) {
        try {
            execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: shut down, dropping a task", name);
        }
    }

    /** Runs {@code call} on the component's thread; the future completes with its result. */
    public <T> CompletableFuture<T> submit(Supplier<T> call) {
        return CompletableFuture.supplyAsync(call, this);
    }

    /**
     * Runs {@code task} on the component's thread once {@code delay} has passed on the timer. Cancelling from the
     * component's thread guarantees that it will not run.
     */
    public Scheduled schedule(Runnable task, Duration delay) {
        Scheduled s = new Scheduled(task, null);
        s.arm(delay);
        return s;
    }

    /** Runs {@code task} after {@code initial}, then {@code every} after each run ends, until cancelled. */
    public Scheduled repeat(Runnable task, Duration initial, Duration every) {
        Scheduled s = new Scheduled(task, requireNonNull(every, "every"));
        s.arm(initial);
        return s;
    }

    /**
     * Fails unless called from this executor's task.
     *
     * @throws IllegalStateException naming the component and the calling thread
     */
    public void checkInContext() {
        try {
            context.throwIfNotInThisSynchronizationContext();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("must run on the serial executor " + name + ", not on thread '"
                    + Thread.currentThread().getName() + "'", e);
        }
    }

    /** Takes no more tasks; waits up to {@code await} for the queued ones (including a running one) to end. */
    public void shutdown(Duration await) {
        shutdown = true;
        thread.shutdown();
        try {
            if (!thread.awaitTermination(await.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("{}: tasks still running after {}; leaving them", name, await);
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            thread.shutdownNow();
        }
    }

    /** Stops at once: queued tasks are dropped and a running one is interrupted. */
    public void shutdownNow() {
        shutdown = true;
        thread.shutdownNow();
    }

    @Override
    public String toString() {
        return "SerialExecutor[" + name + "]";
    }

    /** A task waiting for its time; its state is touched on the component's thread (but for the timer's handle). */
    public final class Scheduled {
        private final Runnable task;
        private final Duration every; // null: once
        private volatile ScheduledFuture<?> timerHandle;
        private volatile boolean cancelled;
        private volatile boolean done;

        private Scheduled(Runnable task, Duration every) {
            this.task = requireNonNull(task, "task");
            this.every = every;
        }

        private void arm(Duration delay) {
            try {
                timerHandle = timer.schedule(() -> executeIfRunning(this::fire), Math.max(0, delay.toNanos()),
                        TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                done = true; // the timer is gone: shutting down
            }
        }

        private void fire() {
            if (cancelled) {
                return;
            }
            if (every == null) {
                done = true;
            }
            task.run();
            if (every != null && !cancelled) {
                arm(every);
            }
        }

        /** It will not run (when called on the component's thread; from elsewhere, a run already due may happen). */
        public void cancel() {
            cancelled = true;
            ScheduledFuture<?> h = timerHandle;
            if (h != null) {
                h.cancel(false);
            }
        }

        /** Neither run (a one-off) nor cancelled. */
        public boolean isPending() {
            return !cancelled && !done;
        }

        /** Time left on the timer before it fires; zero once due. */
        public Duration remaining() {
            ScheduledFuture<?> h = timerHandle;
            return h == null ? Duration.ZERO : Duration.ofNanos(Math.max(0, h.getDelay(TimeUnit.NANOSECONDS)));
        }
    }
}
