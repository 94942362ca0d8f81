package io.meshfed.trust.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidVerificationException;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.testing.TestPki;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real TLS 1.3 handshakes over loopback between a Netty client and server holding SVIDs of two trust domains that
 * trust each other through a bundle set. Each case runs with OpenSSL (BoringSSL) and with the JDK provider.
 */
class SpiffeTlsTest {
    private static final Instant NOW = Instant.now();
    private static final SpiffeId CLIENT_ID = SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/sa/client");
    private static final SpiffeId SERVER_ID = SpiffeId.parse("spiffe://west.acme.mesh/meshfed/gateway/west-gw");

    private final TestPki east = TestPki.create("east.acme.mesh", NOW);
    private final TestPki west = TestPki.create("west.acme.mesh", NOW);
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final List<SvidVerificationException> serverRejections = new CopyOnWriteArrayList<>();
    private final BlockingQueue<SpiffeId> serverSawPeers = new LinkedBlockingQueue<>();
    private final java.util.concurrent.atomic.AtomicLong serverAppBytes = new java.util.concurrent.atomic.AtomicLong();

    @AfterEach
    void shutdown() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private static void assumeAvailable(TlsProvider provider) {
        if (provider == TlsProvider.OPENSSL) {
            assumeTrue(TlsProvider.openSslUsable(), "netty-tcnative does not load on this machine");
        }
    }

    private TlsCredentials serverCredentials(BundleSet trusted) {
        return TlsCredentials.of(west.svid("/meshfed/gateway/west-gw"), trusted);
    }

    private TlsCredentials clientCredentials() {
        return TlsCredentials.of(east.svid("/ns/demo/sa/client"), BundleSet.of(east.bundle(), west.bundle()));
    }

    /** An echo server that records each verified peer. */
    private Channel startServer(TlsProvider provider, TlsCredentials credentials, PeerAuthorizer authorizer)
            throws Exception {
        SslContext context = SpiffeTls.nettyServer(provider,
                new SpiffeTrustManager(credentials, authorizer, Clock.systemUTC(), serverRejections::add),
                new SpiffeKeyManager(credentials));
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SslHandler ssl = context.newHandler(ch.alloc());
                        ssl.handshakeFuture().addListener(f -> {
                            if (f.isSuccess()) {
                                SpiffeTls.peerId(ssl.engine().getSession()).ifPresent(serverSawPeers::add);
                            }
                        });
                        ch.pipeline().addLast(ssl, new SimpleChannelInboundHandler<ByteBuf>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                serverAppBytes.addAndGet(msg.readableBytes());
                                ctx.writeAndFlush(msg.retain());
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    /** A connected client; received bytes arrive in {@code received}. */
    private record Client(Channel channel, SslHandler ssl, BlockingQueue<String> received) {
        String echo(String text) throws InterruptedException {
            channel.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            return received.poll(channel.isActive() ? 10 : 1, TimeUnit.SECONDS);
        }

        /** Sends data and waits for the server to end the connection; true when it did, with nothing echoed. */
        boolean refusedWithoutEcho() throws InterruptedException {
            channel.writeAndFlush(Unpooled.copiedBuffer("secret", StandardCharsets.UTF_8));
            return channel.closeFuture().await(10, TimeUnit.SECONDS) && received.isEmpty();
        }

        X509Certificate serverLeaf() throws Exception {
            return (X509Certificate) ssl.engine().getSession().getPeerCertificates()[0];
        }
    }

    private Client connect(TlsProvider provider, TlsCredentials credentials, Channel server) throws Exception {
        SslContext context = SpiffeTls.nettyClient(provider,
                new SpiffeTrustManager(credentials, PeerAuthorizer.ids(Set.of(SERVER_ID)), Clock.systemUTC()),
                new SpiffeKeyManager(credentials));
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        SslHandler[] holder = new SslHandler[1];
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        holder[0] = context.newHandler(c.alloc());
                        c.pipeline().addLast(holder[0], new SimpleChannelInboundHandler<ByteBuf>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                received.add(msg.toString(StandardCharsets.UTF_8));
                            }
                        });
                    }
                })
                .connect(server.localAddress()).sync().channel();
        holder[0].handshakeFuture().await(10, TimeUnit.SECONDS);
        return new Client(ch, holder[0], received);
    }

    @ParameterizedTest
    @EnumSource(TlsProvider.class)
    void mutualTlsAcrossTrustDomainsThroughTheBundleSet(TlsProvider provider) throws Exception {
        assumeAvailable(provider);
        Channel server = startServer(provider, serverCredentials(BundleSet.of(east.bundle(), west.bundle())),
                PeerAuthorizer.trustDomains(Set.of(CLIENT_ID.trustDomain())));
        Client client = connect(provider, clientCredentials(), server);
        assertThat(client.ssl().handshakeFuture().isSuccess()).as("client handshake").isTrue();
        assertThat(client.ssl().engine().getSession().getProtocol()).isEqualTo("TLSv1.3");
        assertThat(client.echo("hello")).isEqualTo("hello");
        assertThat(SpiffeTls.peerId(client.ssl().engine().getSession())).contains(SERVER_ID);
        assertThat(serverSawPeers.poll(10, TimeUnit.SECONDS)).isEqualTo(CLIENT_ID);
        assertThat(serverRejections).isEmpty();
        server.close().sync();
    }

    @ParameterizedTest
    @EnumSource(TlsProvider.class)
    void clientFromATrustDomainMissingInTheServersSetIsRejected(TlsProvider provider) throws Exception {
        assumeAvailable(provider);
        Channel server = startServer(provider, serverCredentials(BundleSet.of(west.bundle())),
                PeerAuthorizer.anyVerified());
        Client client = connect(provider, clientCredentials(), server);
        // TLS 1.3: the client may finish its side first; the server then ends the connection, and no byte the client
        // sent reaches the server's application.
        assertThat(client.refusedWithoutEcho()).isTrue();
        assertThat(serverAppBytes).hasValue(0);
        assertThat(serverRejections).extracting(SvidVerificationException::reason)
                .containsExactly(SvidVerificationException.Reason.UNKNOWN_TRUST_DOMAIN);
        assertThat(serverSawPeers).isEmpty();
        server.close().sync();
    }

    @ParameterizedTest
    @EnumSource(TlsProvider.class)
    void unauthorizedPeerIsRejectedInTheHandshake(TlsProvider provider) throws Exception {
        assumeAvailable(provider);
        Channel server = startServer(provider, serverCredentials(BundleSet.of(east.bundle(), west.bundle())),
                PeerAuthorizer.ids(Set.of(SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/sa/someone-else"))));
        Client client = connect(provider, clientCredentials(), server);
        assertThat(client.refusedWithoutEcho()).isTrue();
        assertThat(serverAppBytes).hasValue(0);
        assertThat(serverRejections).extracting(SvidVerificationException::reason)
                .containsExactly(SvidVerificationException.Reason.NOT_AUTHORIZED);
        server.close().sync();
    }

    @ParameterizedTest
    @EnumSource(TlsProvider.class)
    void clientRejectsAServerWithTheWrongId(TlsProvider provider) throws Exception {
        assumeAvailable(provider);
        TlsCredentials impostor = TlsCredentials.of(west.svid("/meshfed/gateway/other"),
                BundleSet.of(east.bundle(), west.bundle()));
        Channel server = startServer(provider, impostor, PeerAuthorizer.anyVerified());
        Client client = connect(provider, clientCredentials(), server);
        assertThat(client.ssl().handshakeFuture().isSuccess()).isFalse();
        assertThat(client.ssl().handshakeFuture().cause()).hasStackTraceContaining("is not among the allowed IDs");
        server.close().sync();
    }

    @ParameterizedTest
    @EnumSource(TlsProvider.class)
    void serverSvidIsSwappedWhileAConnectionStaysOpen(TlsProvider provider) throws Exception {
        assumeAvailable(provider);
        TlsCredentials serverCreds = serverCredentials(BundleSet.of(east.bundle(), west.bundle()));
        Channel server = startServer(provider, serverCreds, PeerAuthorizer.anyVerified());
        Client first = connect(provider, clientCredentials(), server);
        assertThat(first.echo("before")).isEqualTo("before");
        BigInteger oldSerial = first.serverLeaf().getSerialNumber();

        X509Svid renewed = west.svid("/meshfed/gateway/west-gw");
        serverCreds.updateSvid(renewed);

        assertThat(first.echo("still-open")).as("existing connection survives the swap").isEqualTo("still-open");
        assertThat(first.channel().isActive()).isTrue();
        Client second = connect(provider, clientCredentials(), server);
        assertThat(second.echo("after")).isEqualTo("after");
        assertThat(second.serverLeaf().getSerialNumber()).isEqualTo(renewed.leaf().getSerialNumber())
                .isNotEqualTo(oldSerial);
        server.close().sync();
    }

    @Test
    void bundleSwapAdmitsANewTrustDomainWithoutRestart() throws Exception {
        TlsProvider provider = TlsProvider.preferred();
        TlsCredentials serverCreds = serverCredentials(BundleSet.of(west.bundle()));
        Channel server = startServer(provider, serverCreds, PeerAuthorizer.anyVerified());
        Client refused = connect(provider, clientCredentials(), server);
        assertThat(refused.refusedWithoutEcho()).isTrue();

        serverCreds.updateBundles(BundleSet.of(west.bundle()).with(east.bundle()));
        Client admitted = connect(provider, clientCredentials(), server);
        assertThat(admitted.echo("welcome")).isEqualTo("welcome");
        server.close().sync();
    }

    @Test
    void jdkSslContextClientTalksToANettyServer() throws Exception {
        Channel server = startServer(TlsProvider.preferred(),
                serverCredentials(BundleSet.of(east.bundle(), west.bundle())), PeerAuthorizer.anyVerified());
        TlsCredentials creds = clientCredentials();
        var context = SpiffeTls.jdk(new SpiffeTrustManager(creds, PeerAuthorizer.ids(Set.of(SERVER_ID)),
                Clock.systemUTC()), new SpiffeKeyManager(creds));
        InetSocketAddress address = (InetSocketAddress) server.localAddress();
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", address.getPort())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
            OutputStream out = socket.getOutputStream();
            out.write("jdk".getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] buf = in.readNBytes(3);
            assertThat(new String(buf, StandardCharsets.UTF_8)).isEqualTo("jdk");
            assertThat(SpiffeTls.peerId(socket.getSession())).contains(SERVER_ID);
        }
        assertThat(serverSawPeers.poll(10, TimeUnit.SECONDS)).isEqualTo(CLIENT_ID);
        server.close().sync();
    }

    @Test
    void jdkContextRequiresTls13() {
        TlsCredentials creds = clientCredentials();
        var context = SpiffeTls.jdk(new SpiffeTrustManager(creds, PeerAuthorizer.anyVerified(), Clock.systemUTC()),
                new SpiffeKeyManager(creds));
        assertThat(context.getProtocol()).isEqualTo("TLSv1.3");
        assertThatThrownBy(() -> TlsCredentials.of(null, BundleSet.empty())).isInstanceOf(NullPointerException.class);
    }
}
