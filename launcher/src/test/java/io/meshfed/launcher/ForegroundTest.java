package io.meshfed.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ForegroundTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final List<Thread> hooks = new CopyOnWriteArrayList<>();
    private final Foreground foreground = new Foreground("meshfed-gateway",
            new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
            hooks::add);

    private CompletableFuture<Integer> serve(AutoCloseable running, String readyLine) {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        Thread main = new Thread(() -> {
            try {
                result.complete(foreground.serveUntilShutdown(running, readyLine));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        }, "test-main");
        main.start();
        return result;
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void printsTheReadyLineAfterRegisteringTheHookThenWaitsUntilTheHookClosedIt() throws Exception {
        AtomicInteger closes = new AtomicInteger();
        CompletableFuture<Integer> exit = serve(closes::incrementAndGet, "meshfed gateway ready: mTLS 127.0.0.1:15443");

        await().until(() -> !out().isEmpty());
        assertThat(out()).isEqualTo("meshfed gateway ready: mTLS 127.0.0.1:15443" + System.lineSeparator());
        assertThat(hooks).hasSize(1);
        assertThat(hooks.get(0).getName()).isEqualTo("meshfed-gateway-shutdown");
        assertThat(exit).isNotDone();
        assertThat(closes).hasValue(0);

        hooks.get(0).start(); // what SIGTERM does
        assertThat(exit.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(closes).hasValue(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aFailureWhileClosingIsOneLineOnTheErrorStreamAndStillEndsTheWait() throws Exception {
        CompletableFuture<Integer> exit = serve(() -> {
            throw new IOException("cannot report readiness: controller gone");
        }, "meshfed agent ready");
        await().until(() -> !hooks.isEmpty() && !out().isEmpty());

        hooks.get(0).start();
        assertThat(exit.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(
                "meshfed-gateway: while stopping: cannot report readiness: controller gone" + System.lineSeparator());
    }
}
