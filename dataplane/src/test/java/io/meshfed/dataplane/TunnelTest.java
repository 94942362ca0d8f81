package io.meshfed.dataplane;

import static io.meshfed.dataplane.TunnelPair.metric;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.dataplane.ProxyStats.Direction;
import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Traffic through a tunnel between two real proxies on loopback (see {@link TunnelPair}): each downstream connection
 * of west's outbound listener becomes one CONNECT stream on a pooled mTLS HTTP/2 connection to east's tunnel
 * listener, which carries it to the workload. Counters are read from /metrics.
 */
class TunnelTest {
    private static final ProxySettings DEFAULTS = ProxySettings.defaults();

    @Test
    void aConnectionCrossesAsOneTunnelStreamAndBothAccessLogsNameTheCallerAndTheService() throws Exception {
        try (CapturedStderr log = new CapturedStderr();
                TunnelPair pair = new TunnelPair(DEFAULTS, DEFAULTS, Set.of(TunnelPair.WEST))) {
            try (Socket s = pair.connect()) {
                assertThat(EchoBackend.exchange(s, "through the tunnel")).isEqualTo("through the tunnel");
                assertThat(pair.sender.stats().activeStreams()).isEqualTo(1);
            }
            assertThat(pair.backend.connections()).hasValue(1);
            assertThat(metric(pair.senderHttp, "meshfed_tunnel_connections_total{direction=\"outbound\"}"))
                    .isEqualTo(1);
            assertThat(metric(pair.receiverHttp, "meshfed_tunnel_connections_total{direction=\"inbound\"}"))
                    .isEqualTo(1);
            assertThat(metric(pair.senderHttp, "meshfed_tunnel_streams_total{direction=\"outbound\",result=\"ok\"}"))
                    .isEqualTo(1);
            assertThat(metric(pair.receiverHttp, "meshfed_tunnel_streams_total{direction=\"inbound\",result=\"ok\"}"))
                    .isEqualTo(1);
            assertThat(metric(pair.senderHttp, "meshfed_tls_handshakes_total{side=\"client\"}")).isEqualTo(1);
            assertThat(metric(pair.receiverHttp, "meshfed_tls_handshakes_total{side=\"server\"}")).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> pair.sender.stats().activeStreams() == 0
                    && pair.receiver.stats().activeStreams() == 0);
            assertThat(metric(pair.receiverHttp, "meshfed_tunnel_active_streams")).isZero();
            // The ends closed the stream with END_STREAM both ways: the connection stays for the next one.
            assertThat(pair.sender.outboundTunnelConnections()).isEqualTo(1);
            assertThat(pair.receiver.inboundTunnelConnections()).isEqualTo(1);

            String name = pair.name();
            await().atMost(Duration.ofSeconds(10)).until(() -> log.accessLines().size() >= 2);
            // The receiver's line: the stream, named by the sending gateway's verified ID, carried to the workload.
            assertThat(log.accessLines()).filteredOn(l -> l.path("listener").asText().equals("tunnel"))
                    .singleElement().satisfies(l -> {
                        assertThat(l.path("caller").asText()).isEqualTo(pair.westGw.toString());
                        assertThat(l.path("service").asText()).isEqualTo(name);
                        assertThat(l.path("upstream").asText()).isEqualTo("127.0.0.1:" + pair.backend.port());
                        assertThat(l.path("transport").asText()).isEqualTo("plain");
                        assertThat(l.path("result").asText()).isEqualTo("ok");
                        assertThat(l.path("bytes_in").asLong()).isEqualTo("through the tunnel".length());
                    });
            // The sender's line: its client, carried as the west gateway through the tunnel to the pinned east one.
            assertThat(log.accessLines()).filteredOn(l -> l.path("listener").asText().equals("outbound"))
                    .singleElement().satisfies(l -> {
                        assertThat(l.path("as").asText()).isEqualTo(pair.westGw.toString());
                        assertThat(l.path("upstream").asText()).isEqualTo(pair.tunnel().getHostString() + ":"
                                + pair.tunnel().getPort());
                        assertThat(l.path("transport").asText()).isEqualTo("tunnel");
                        assertThat(l.path("peer").asText()).isEqualTo(pair.eastGw.toString());
                        assertThat(l.path("bytes_out").asLong()).isEqualTo("through the tunnel".length());
                    });
        }
    }

    @Test
    void aThousandSequentialConnectionsOpenAtMostThePoolsSizeOfTlsConnections() throws Exception {
        try (TunnelPair pair = new TunnelPair(DEFAULTS, DEFAULTS, Set.of(TunnelPair.WEST))) {
            for (int i = 0; i < 1000; i++) {
                try (Socket s = pair.connect()) {
                    assertThat(EchoBackend.exchange(s, "request " + i)).isEqualTo("request " + i);
                }
            }
            int pool = DEFAULTS.tunnel().poolSize();
            assertThat(metric(pair.senderHttp, "meshfed_tunnel_streams_total{direction=\"outbound\",result=\"ok\"}"))
                    .isEqualTo(1000);
            assertThat(metric(pair.senderHttp, "meshfed_tunnel_connections_total{direction=\"outbound\"}"))
                    .isBetween(1.0, (double) pool);
            assertThat(metric(pair.senderHttp, "meshfed_tls_handshakes_total{side=\"client\"}"))
                    .isBetween(1.0, (double) pool);
            assertThat(metric(pair.receiverHttp, "meshfed_tls_handshakes_total{side=\"server\"}"))
                    .isBetween(1.0, (double) pool);
            assertThat(pair.backend.connections()).hasValue(1000);
        }
    }

    @Test
    void downstreamConnectionsOnEveryEventLoopGetATunnelConnectionOfTheirOwnLoop() throws Exception {
        // Accepted connections go round the proxy's event loops; each loop opens its own tunnel connection (so its
        // streams are relayed without a thread hand-off), up to the pool size, and later streams share them.
        int loops = io.netty.util.NettyRuntime.availableProcessors() * 2;
        int pool = DEFAULTS.tunnel().poolSize();
        try (TunnelPair pair = new TunnelPair(DEFAULTS, DEFAULTS, Set.of(TunnelPair.WEST))) {
            List<Socket> open = new ArrayList<>();
            try {
                for (int i = 0; i < 2 * loops; i++) {
                    Socket s = pair.connect();
                    open.add(s);
                    assertThat(EchoBackend.exchange(s, "held " + i)).isEqualTo("held " + i);
                }
                assertThat(pair.sender.stats().activeStreams()).isEqualTo(2 * loops);
                assertThat(pair.sender.outboundTunnelConnections()).isEqualTo(Math.min(loops, pool));
                for (int i = 0; i < open.size(); i++) {
                    assertThat(EchoBackend.exchange(open.get(i), "again " + i)).isEqualTo("again " + i);
                }
            } finally {
                for (Socket s : open) {
                    s.close();
                }
            }
        }
    }

    @Test
    void sixtyFourMebibytesArriveIntactThroughOneStream() throws Exception {
        int size = 64 << 20;
        try (TunnelPair pair = new TunnelPair(DEFAULTS, DEFAULTS, Set.of(TunnelPair.WEST));
                Socket s = pair.connect()) {
            s.setSoTimeout(30_000);
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                Random random = new Random(14);
                byte[] chunk = new byte[64 << 10];
                try {
                    OutputStream out = s.getOutputStream();
                    for (int written = 0; written < size; written += chunk.length) {
                        random.nextBytes(chunk);
                        sent.update(chunk);
                        out.write(chunk);
                    }
                    out.flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            MessageDigest received = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[64 << 10];
            long total = 0;
            while (total < size) {
                int n = in.read(buffer);
                assertThat(n).as("the echo ended after %d bytes", total).isPositive();
                received.update(buffer, 0, n);
                total += n;
            }
            writer.get(30, TimeUnit.SECONDS);
            assertThat(total).isEqualTo(size);
            assertThat(received.digest()).isEqualTo(sent.digest());
            assertThat(pair.sender.stats().bytesFromDownstream()).isEqualTo(size);
            assertThat(pair.receiver.stats().bytesFromUpstream()).isEqualTo(size);
        }
    }

    @Test
    void aReceiverThatDrainsFailsNoRequestAndNewStreamsTakeANewConnection() throws Exception {
        try (TunnelPair pair = new TunnelPair(DEFAULTS, DEFAULTS, Set.of(TunnelPair.WEST))) {
            try (Socket open = pair.connect()) {
                assertThat(EchoBackend.exchange(open, "before")).isEqualTo("before");
                pair.receiver.goAwayTunnels();
                assertThat(EchoBackend.exchange(open, "while draining")).isEqualTo("while draining");
                try (Socket late = pair.connect()) {
                    assertThat(EchoBackend.exchange(late, "a new stream")).isEqualTo("a new stream");
                }
                assertThat(pair.sender.stats().tunnelConnections(Direction.OUTBOUND)).isEqualTo(2);
                assertThat(EchoBackend.exchange(open, "still there")).isEqualTo("still there");
            }
            // The drained connection closes with its last stream; the new one stays.
            await().atMost(Duration.ofSeconds(10)).until(() -> pair.receiver.inboundTunnelConnections() == 1
                    && pair.sender.outboundTunnelConnections() == 1);

            // Under load, with the receiver draining its connections again and again, no request fails.
            ExecutorService clients = Executors.newFixedThreadPool(4);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int client = t;
                    done.add(clients.submit(() -> {
                        for (int i = 0; i < 100; i++) {
                            try (Socket s = pair.connect()) {
                                String text = "client " + client + " request " + i;
                                assertThat(EchoBackend.exchange(s, text)).isEqualTo(text);
                            }
                        }
                        return 100;
                    }));
                }
                for (int i = 0; i < 5; i++) {
                    Thread.sleep(20);
                    pair.receiver.goAwayTunnels();
                }
                for (Future<Integer> f : done) {
                    assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(100);
                }
            } finally {
                clients.shutdownNow();
            }
            assertThat(pair.sender.stats().outboundUnroutable()).isZero();
            assertThat(pair.sender.stats().upstreamFailures(UpstreamFailure.REFUSED)).isZero();
            assertThat(pair.sender.stats().tunnelStreams(Direction.OUTBOUND, ProxyStats.OK)).isEqualTo(402);
        }
    }

    @Test
    void aStreamWhoseReceiverCrashedBeforeAnsweringIsOpenedAgainOnANewConnection() throws Exception {
        // Crashed with a CONNECT unanswered (no GOAWAY, no reset), the receiver cannot have carried any byte of the
        // downstream, so the sender opens the stream again instead of failing the request.
        try (TunnelPair pair = new TunnelPair(DEFAULTS, DEFAULTS, Set.of(TunnelPair.WEST));
                CrashingTunnelReceiver crashing = new CrashingTunnelReceiver(TlsCredentials.of(
                        pair.east.svid(pair.eastGw.path()), pair.bundles), "127.0.1.1", 1)) {
            pair.routeTo(crashing.address());
            try (Socket s = pair.connect()) {
                assertThat(EchoBackend.exchange(s, "after a crash")).isEqualTo("after a crash");
            }
            assertThat(crashing.connections()).isEqualTo(2);
            assertThat(crashing.answeredStreams()).isEqualTo(1);
            assertThat(pair.sender.stats().upstreamFailures(UpstreamFailure.REFUSED)).isZero();
            assertThat(pair.sender.stats().tunnelStreams(Direction.OUTBOUND, ProxyStats.OK)).isEqualTo(1);
        }
    }

    @Test
    void aReceiverThatCrashesOnEveryConnectionFailsTheRequestWithTheReasonAfterTheAttempts() throws Exception {
        try (TunnelPair pair = new TunnelPair(DEFAULTS, DEFAULTS, Set.of(TunnelPair.WEST));
                CapturedStderr log = new CapturedStderr();
                CrashingTunnelReceiver crashing = new CrashingTunnelReceiver(TlsCredentials.of(
                        pair.east.svid(pair.eastGw.path()), pair.bundles), "127.0.1.1", Integer.MAX_VALUE)) {
            pair.routeTo(crashing.address());
            try (Socket s = pair.connect()) {
                assertThat(EchoBackend.exchange(s, "never")).isEmpty();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> crashing.connections() == TunnelPool.ATTEMPTS);
            assertThat(pair.sender.stats().upstreamFailures(UpstreamFailure.REFUSED)).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> log.text().contains(
                    "the tunnel connection closed before the stream was answered"));
        }
    }
}
