package io.meshfed.controller.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/** An executor whose tasks run when the test says, in the order it chooses, on the test's thread. */
public final class ManualExecutor implements Executor {
    private final List<Runnable> tasks = new ArrayList<>();

    @Override
    public synchronized void execute(Runnable task) {
        tasks.add(task);
    }

    public synchronized int pending() {
        return tasks.size();
    }

    /** Runs the task handed in first. */
    public void runFirst() {
        take(0).run();
    }

    /** Runs the task handed in last (overtaking the others). */
    public void runLast() {
        Runnable t;
        synchronized (this) {
            t = tasks.remove(tasks.size() - 1);
        }
        t.run();
    }

    /** Runs every task, oldest first, including those they hand in. */
    public void runAll() {
        while (pending() > 0) {
            runFirst();
        }
    }

    private synchronized Runnable take(int index) {
        return tasks.remove(index);
    }
}
