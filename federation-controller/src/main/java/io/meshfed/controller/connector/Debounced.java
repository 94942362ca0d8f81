package io.meshfed.controller.connector;

import io.meshfed.api.concurrent.SerialExecutor;
import java.time.Duration;

/**
 * A task run once after the latest of a burst of requests, on a connector's serial executor: a request is dropped
 * when a run is already due no later than it asks (that run will see its change too), and a sooner request moves a
 * pending run forward. Called on the executor only.
 */
public final class Debounced {
    private final SerialExecutor executor;
    private final Runnable task;
    private SerialExecutor.Scheduled pending;

    public Debounced(SerialExecutor executor, Runnable task) {
        this.executor = executor;
        this.task = task;
    }

    /** One run after {@code delay}, unless one is already due sooner. */
    public void request(Duration delay) {
        executor.checkInContext();
        if (pending != null && pending.isPending() && pending.remaining().compareTo(delay) <= 0) {
            return;
        }
        cancel();
        pending = executor.schedule(() -> {
            pending = null;
            task.run();
        }, delay);
    }

    /** Drops a pending run. */
    public void cancel() {
        if (pending != null) {
            pending.cancel();
            pending = null;
        }
    }
}
