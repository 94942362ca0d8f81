package io.meshfed.bench;

import io.meshfed.trust.BundleSet;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Full mutual TLS 1.3 handshakes per second between two SPIFFE identities of different trust domains (ECDSA P-256,
 * a leaf and an intermediate each side), client and server in one thread through memory: the work one gateway pair
 * does for a new connection, with OpenSSL (BoringSSL) vs the JDK provider.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TlsHandshakeBenchmark {
    @Param({"OPENSSL", "JDK"})
    public TlsProvider provider;

    private SslContext clientContext;
    private SslContext serverContext;

    @Setup
    public void setUp() throws Exception {
        if (provider == TlsProvider.OPENSSL && !TlsProvider.openSslUsable()) {
            throw new IllegalStateException("netty-tcnative does not load here; run with -p provider=JDK");
        }
        Instant now = Instant.now();
        TestPki east = TestPki.create("east.acme.mesh", now);
        TestPki west = TestPki.create("west.acme.mesh", now);
        BundleSet bundles = BundleSet.of(east.bundle(), west.bundle());
        TlsCredentials client = TlsCredentials.of(east.svid("/ns/demo/sa/client"), bundles);
        TlsCredentials server = TlsCredentials.of(west.svid("/meshfed/gateway/west"), bundles);
        clientContext = SpiffeTls.nettyClient(provider,
                new SpiffeTrustManager(client, PeerAuthorizer.anyVerified(), Clock.systemUTC()),
                new SpiffeKeyManager(client));
        serverContext = SpiffeTls.nettyServer(provider,
                new SpiffeTrustManager(server, PeerAuthorizer.anyVerified(), Clock.systemUTC()),
                new SpiffeKeyManager(server));
    }

    @Benchmark
    public int fullMutualHandshake() throws Exception {
        SSLEngine client = clientContext.newEngine(ByteBufAllocator.DEFAULT);
        SSLEngine server = serverContext.newEngine(ByteBufAllocator.DEFAULT);
        try {
            return MemoryHandshake.run(client, server);
        } finally {
            ReferenceCountUtil.release(client);
            ReferenceCountUtil.release(server);
        }
    }

    /** For tests: one handshake with the given provider. */
    public static int once(TlsProvider provider) throws Exception {
        TlsHandshakeBenchmark b = new TlsHandshakeBenchmark();
        b.provider = provider;
        b.setUp();
        return b.fullMutualHandshake();
    }
}
