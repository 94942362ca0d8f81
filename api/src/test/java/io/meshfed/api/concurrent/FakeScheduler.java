package io.meshfed.api.concurrent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A timer whose time moves only when a test says so, in the manner of grpc-java's {@code FakeClock}:
 * {@link #forwardTime} advances the time and runs, on the calling thread and in time order, every task that has
 * become due (including tasks those tasks schedule within the window). Nothing runs by itself. A task's exception
 * is kept in its future, as a real scheduler does.
 */
public final class FakeScheduler extends AbstractExecutorService implements ScheduledExecutorService {
    private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
    private final AtomicLong sequence = new AtomicLong();
    private long nanos; // guarded by this
    private boolean shutdown; // guarded by this

    /** The scheduler's time since it was made. */
    public synchronized Duration elapsed() {
        return Duration.ofNanos(nanos);
    }

    /** Advances the time by {@code d} and runs every task due by then; returns how many ran. */
    public int forwardTime(Duration d) {
        long target;
        synchronized (this) {
            target = nanos + d.toNanos();
        }
        int ran = 0;
        while (true) {
            Task<?> next;
            synchronized (this) {
                next = queue.peek();
                if (next == null || next.due > target) {
                    nanos = target;
                    return ran;
                }
                queue.poll();
                nanos = Math.max(nanos, next.due);
            }
            next.run();
            ran++;
            if (next.period > 0 && !next.isCancelled()) {
                synchronized (this) {
                    next.due = nanos + next.period;
                    queue.add(next);
                }
            }
        }
    }

    /** Runs the tasks due now without moving the time. */
    public int runDueTasks() {
        return forwardTime(Duration.ZERO);
    }

    /** Tasks waiting (not cancelled). */
    public synchronized int pendingTasks() {
        queue.removeIf(Task::isCancelled);
        return queue.size();
    }

    /** The delays of the waiting tasks from now, soonest first (for a test's failure message). */
    public synchronized List<Duration> pendingDelays() {
        List<Duration> delays = new ArrayList<>();
        queue.stream().filter(t -> !t.isCancelled()).sorted().forEach(t -> delays.add(Duration.ofNanos(t.due - nanos)));
        return delays;
    }

    private synchronized <V> Task<V> add(Callable<V> call, long delayNanos, long periodNanos) {
        if (shutdown) {
            throw new java.util.concurrent.RejectedExecutionException("FakeScheduler is shut down");
        }
        Task<V> t = new Task<>(call, nanos + Math.max(0, delayNanos), periodNanos);
        queue.add(t);
        return t;
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return add(Executors.callable(command), unit.toNanos(delay), 0);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return add(callable, unit.toNanos(delay), 0);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return add(Executors.callable(command), unit.toNanos(initialDelay), unit.toNanos(period));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        return add(Executors.callable(command), unit.toNanos(initialDelay), unit.toNanos(delay));
    }

    /** Runs at the next {@link #forwardTime} or {@link #runDueTasks}, not now. */
    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = new ArrayList<>(queue);
        queue.clear();
        return left;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }

    private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
        private final long seq = sequence.incrementAndGet();
        private final long period;
        private long due; // guarded by FakeScheduler.this

        Task(Callable<V> call, long due, long period) {
            super(call);
            this.due = due;
            this.period = period;
        }

        @Override
        public void run() {
            if (period > 0) {
                runAndReset();
            } else {
                super.run();
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            synchronized (FakeScheduler.this) {
                return unit.convert(due - nanos, TimeUnit.NANOSECONDS);
            }
        }

        @Override
        public int compareTo(Delayed o) {
            Task<?> other = (Task<?>) o;
            int c = Long.compare(due, other.due);
            return c != 0 ? c : Long.compare(seq, other.seq);
        }
    }
}
