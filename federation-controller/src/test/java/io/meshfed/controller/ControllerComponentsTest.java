package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.NetworkRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.server.HttpEndpoint;
import io.meshfed.controller.testing.TestFederation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The composition root starts the controller's components in order and closes them in reverse, the store last;
 * /readyz says ready only once every component has started, and not ready again as soon as closing begins; a start
 * that fails on a taken port gives back what it had taken, so a second controller starts on the same ports and data.
 */
class ControllerComponentsTest {
    private static final HttpEndpoint.Timeouts TIMEOUTS = HttpEndpoint.Timeouts.DEFAULTS;
    private static final InetAddress LOOPBACK = loopback();

    @TempDir
    Path dir;
    private TestFederation federation;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** A federation in {@code dir} with network "east" in its store; its own controller is stopped. */
    @BeforeEach
    void initialise() throws Exception {
        federation = TestFederation.start(dir);
        federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        federation.controller().close();
    }

    @AfterEach
    void close() {
        federation.close();
    }

    /** Records the components as they start and close. */
    private static final class Recorder implements StartedComponents.Listener {
        final List<String> started = Collections.synchronizedList(new ArrayList<>());
        final List<String> closed = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void started(String component) {
            started.add(component);
        }

        @Override
        public void closed(String component) {
            closed.add(component);
        }
    }

    private ControllerConfig config(int grpcPort, int httpPort, int probePort) {
        return new ControllerConfig(dir, new InetSocketAddress("127.0.0.1", grpcPort),
                new InetSocketAddress("127.0.0.1", httpPort), null, Duration.ofMillis(20), null, null, null, null, 0,
                PortAllocations.DEFAULT_MEMBER_QUOTA, new InetSocketAddress("127.0.0.1", probePort),
                ControllerConfig.DEFAULT_MAX_PODS_PER_CLUSTER, null);
    }

    @Test
    void componentsCloseInTheReverseOrderOfTheirStartWithTheStoreLast() throws Exception {
        Recorder recorder = new Recorder();
        Controller controller = Controller.start(config(0, 0, 0), TIMEOUTS, federation.clock, recorder);
        int grpcPort = controller.grpcAddress().getPort();
        int httpPort = controller.httpAddress().getPort();
        int probePort = controller.probeAddress().orElseThrow().getPort();
        assertThat(recorder.started).containsSubsequence("store", "trust bundle watch", "config streams",
                "cluster connectors", "gRPC server", "HTTPS endpoint", "probe endpoint", "readiness");
        assertThat(recorder.started.get(0)).isEqualTo("store");
        assertThat(recorder.started.get(recorder.started.size() - 1)).isEqualTo("readiness");
        assertThat(recorder.closed).isEmpty();

        controller.close();

        List<String> reversed = new ArrayList<>(recorder.started);
        Collections.reverse(reversed);
        assertThat(recorder.closed).as("closed in reverse order, each once").isEqualTo(reversed);
        assertThat(recorder.closed.get(recorder.closed.size() - 1)).isEqualTo("store");
        assertPortsFree(grpcPort, httpPort, probePort);
    }

    @Test
    void readyzSaysNotReadyUntilEveryComponentHasStartedAndFromTheMomentClosingBegins() throws Exception {
        Map<String, Integer> readyz = new ConcurrentHashMap<>();
        int[] probePort = new int[1];
        try (ServerSocket reserved = new ServerSocket(0, 1, LOOPBACK)) {
            probePort[0] = reserved.getLocalPort();
        }
        StartedComponents.Listener listener = new StartedComponents.Listener() {
            @Override
            public void started(String component) {
                if (component.equals("probe endpoint") || component.equals("controller SVID renewal")) {
                    readyz.put("after starting " + component, readyz(probePort[0]));
                }
            }

            @Override
            public void closed(String component) {
                if (component.equals("readiness") || component.equals("controller SVID renewal")) {
                    readyz.put("after closing " + component, readyz(probePort[0]));
                }
            }
        };
        Controller controller = Controller.start(config(0, 0, probePort[0]), TIMEOUTS, federation.clock, listener);
        try {
            assertThat(readyz(probePort[0])).as("/readyz once started").isEqualTo(200);
        } finally {
            controller.close();
        }
        assertThat(readyz).containsExactlyInAnyOrderEntriesOf(Map.of(
                "after starting probe endpoint", 503,
                "after starting controller SVID renewal", 503,
                "after closing readiness", 503,
                "after closing controller SVID renewal", 503));
    }

    @Test
    void aControllerWhoseHttpsPortIsTakenFailsAndGivesBackTheGrpcPortAndTheStore() throws Exception {
        int grpcPort;
        try (ServerSocket reserved = new ServerSocket(0, 1, LOOPBACK)) {
            grpcPort = reserved.getLocalPort();
        }
        Recorder recorder = new Recorder();
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
            int httpPort = taken.getLocalPort();
            assertThatThrownBy(() -> Controller.start(config(grpcPort, httpPort, 0), TIMEOUTS, federation.clock,
                    recorder))
                    .isInstanceOf(IOException.class)
                    .satisfies(e -> assertThat(ControllerMain.message((Exception) e))
                            .startsWith("cannot listen: ")
                            .contains("is the port taken? choose another with --listen/--http-listen"));
        }
        assertThat(recorder.started).contains("store", "gRPC server").doesNotContain("HTTPS endpoint", "readiness");
        List<String> reversed = new ArrayList<>(recorder.started);
        Collections.reverse(reversed);
        assertThat(recorder.closed).as("what had started is closed, in reverse, the store last").isEqualTo(reversed);
        assertThat(Files.exists(dir.resolve("state.db-wal")))
                .as("no connection to the store is left open (SQLite removes the WAL with the last one)").isFalse();
        assertPortsFree(grpcPort);

        // The same data directory and gRPC port serve a second controller, with the state the first left.
        Controller second = Controller.start(config(grpcPort, 0, 0), TIMEOUTS, federation.clock,
                StartedComponents.Listener.NONE);
        try {
            assertThat(second.grpcAddress().getPort()).isEqualTo(grpcPort);
            assertThat(Files.exists(dir.resolve("state.db-wal"))).as("the WAL exists while a store is open").isTrue();
            assertThat(Records.get(second.store(), Kind.NETWORK, "east", NetworkRecord.class)).isPresent();
            assertThat(readyz(second.probeAddress().orElseThrow().getPort())).isEqualTo(200);
        } finally {
            second.close();
        }
    }

    private int readyz(int port) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static InetAddress loopback() {
        try {
            return InetAddress.getByName("127.0.0.1");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertPortsFree(int... ports) throws IOException {
        for (int port : ports) {
            try (ServerSocket again = new ServerSocket(port, 1, LOOPBACK)) {
                assertThat(again.getLocalPort()).isEqualTo(port);
            }
        }
    }
}
