package io.meshfed.api.concurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {
    private final FakeScheduler timer = new FakeScheduler();
    private final SerialExecutor executor = SerialExecutor.start("component-x", timer);

    @AfterEach
    void stop() {
        executor.shutdown(Duration.ofSeconds(5));
    }

    private void await() throws Exception {
        executor.submit(() -> null).get(10, TimeUnit.SECONDS); // every task handed in before has run
    }

    @Test
    void tasksRunInOrderOnTheComponentsThreadWhereTheAssertionHolds() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 100; i++) {
            int n = i;
            executor.execute(() -> {
                executor.checkInContext();
                seen.add(n + "@" + Thread.currentThread().getName());
            });
        }
        await();
        assertThat(seen).hasSize(100).allMatch(s -> s.endsWith("@component-x"));
        assertThat(seen.stream().map(s -> Integer.parseInt(s.substring(0, s.indexOf('@')))))
                .isSorted();
    }

    @Test
    void theAssertionFailsOutsideNamingTheExecutorAndTheThread() {
        String name = Thread.currentThread().getName();
        Thread.currentThread().setName("some-grpc-thread");
        try {
            assertThatThrownBy(executor::checkInContext).isInstanceOf(IllegalStateException.class)
                    .hasMessage("must run on the serial executor component-x, not on thread 'some-grpc-thread'");
        } finally {
            Thread.currentThread().setName(name);
        }
    }

    @Test
    void timersFireOnlyWhenTimeIsForwardedAndRunOnTheComponentsThread() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        executor.schedule(() -> seen.add("late@" + Thread.currentThread().getName()), Duration.ofSeconds(30));
        executor.schedule(() -> seen.add("soon@" + Thread.currentThread().getName()), Duration.ofSeconds(1));
        timer.forwardTime(Duration.ofMillis(999));
        await();
        assertThat(seen).isEmpty();

        timer.forwardTime(Duration.ofMillis(1));
        await();
        assertThat(seen).containsExactly("soon@component-x");
        timer.forwardTime(Duration.ofSeconds(29));
        await();
        assertThat(seen).containsExactly("soon@component-x", "late@component-x");
    }

    @Test
    void aCancelledTaskNeverRunsAndARepeatedOneRunsEachPeriodUntilCancelled() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        SerialExecutor.Scheduled once = executor.schedule(() -> seen.add("once"), Duration.ofSeconds(1));
        SerialExecutor.Scheduled tick = executor.repeat(() -> seen.add("tick"), Duration.ofSeconds(1),
                Duration.ofSeconds(2));
        assertThat(once.remaining()).isEqualTo(Duration.ofSeconds(1));
        executor.submit(() -> {
            once.cancel();
            return null;
        }).get(10, TimeUnit.SECONDS);
        assertThat(once.isPending()).isFalse();
        for (int i = 0; i < 3; i++) {
            timer.forwardTime(Duration.ofSeconds(1)); // fires at 1 s; the re-arm happens on the executor
            await();
            timer.forwardTime(Duration.ofSeconds(1));
            await();
        }
        assertThat(seen).containsExactly("tick", "tick", "tick");
        executor.submit(() -> {
            tick.cancel();
            return null;
        }).get(10, TimeUnit.SECONDS);
        timer.forwardTime(Duration.ofMinutes(1));
        await();
        assertThat(seen).containsExactly("tick", "tick", "tick");
        assertThat(timer.pendingTasks()).isZero();
    }

    @Test
    void afterShutdownTasksAreRefusedOrDropped() {
        executor.shutdown(Duration.ofSeconds(5));
        assertThatThrownBy(() -> executor.execute(() -> { }))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class)
                .hasMessage("component-x is shut down");
        executor.executeIfRunning(() -> { }); // no exception
    }
}
