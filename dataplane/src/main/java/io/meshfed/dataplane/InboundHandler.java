package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.tls.SpiffeTls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.security.cert.CertificateException;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.Queue;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Decides an inbound connection after its TLS handshake: the SNI must name a service port, and the
 * {@link InboundPolicy} must allow the peer's verified SPIFFE ID for it. Only then is an upstream connection opened, so a refused
 * peer's bytes never reach a workload. Bytes decrypted before the upstream is ready are held.
 */
final class InboundHandler extends ChannelInboundHandlerAdapter {
    private final Function<ServiceSni, Optional<Target>> routes;
    private final InboundPolicy policy;
    private final CallerConnections admitted;
    private final Dialer dialer;
    private final ProxyStats stats;
    private final BiConsumer<Channel, Channel> relay;
    private final Queue<Object> held = new ArrayDeque<>();
    private String sniName;
    private boolean decided;

    InboundHandler(Function<ServiceSni, Optional<Target>> routes, InboundPolicy policy, CallerConnections admitted,
            Dialer dialer, ProxyStats stats, BiConsumer<Channel, Channel> relay) {
        this.routes = routes;
        this.policy = policy;
        this.admitted = admitted;
        this.dialer = dialer;
        this.stats = stats;
        this.relay = relay;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        AccessRecord.open(ctx.channel(), "inbound");
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SniCompletionEvent sni) {
            sniName = sni.hostname();
        } else if (evt instanceof SslHandshakeCompletionEvent done) {
            stats.handshake(ProxyStats.Side.SERVER);
            if (!done.isSuccess()) {
                refuse(ctx, certificateProblem(done.cause()) ? RefusalReason.UNTRUSTED_PEER : RefusalReason.HANDSHAKE);
                return;
            }
            ctx.channel().config().setAutoRead(false);
            route(ctx);
        }
        ctx.fireUserEventTriggered(evt);
    }

    static boolean certificateProblem(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CertificateException || (c.getMessage() != null && c.getMessage().contains("certificate"))) {
                return true;
            }
        }
        return false;
    }

    private void route(ChannelHandlerContext ctx) {
        Optional<ServiceSni> sni = ServiceSni.tryParse(sniName);
        if (sni.isEmpty()) {
            refuse(ctx, RefusalReason.BAD_SNI);
            return;
        }
        Optional<SpiffeId> peer = SpiffeTls.peerId(ctx.pipeline().get(SslHandler.class).engine().getSession());
        if (peer.isEmpty()) {
            refuse(ctx, RefusalReason.UNAUTHORIZED);
            return;
        }
        AccessRecord.of(ctx.channel()).ifPresent(r -> r.caller(peer.get().toString()));
        CallerDecision decision = admitted.admit(sni.get(), peer.get(), ctx.channel(), policy);
        if (!decision.allowed()) {
            refuse(ctx, decision.refusal().get());
            return;
        }
        Optional<Target> target = routes.apply(sni.get());
        if (target.isEmpty() || !target.get().hasUpstreams()) {
            refuse(ctx, RefusalReason.UNKNOWN_SERVICE);
            return;
        }
        Channel downstream = ctx.channel();
        dialer.dial(downstream, peer.get(), target.get(), (upstream, u) -> {
            if (!downstream.isActive() || !admitted.isAdmitted(downstream)) {
                // A new policy refused the caller while dialling, or the peer left: nothing goes upstream.
                upstream.close();
                return;
            }
            decided = true;
            stats.inboundRouted.increment();
            Object m;
            java.util.Optional<AccessRecord> record = AccessRecord.of(downstream);
            while ((m = held.poll()) != null) {
                int n = ((ByteBuf) m).readableBytes();
                stats.bytesFromDownstream.add(n);
                record.ifPresent(r -> r.bytesIn.addAndGet(n));
                upstream.write(m);
            }
            upstream.flush();
            ctx.pipeline().remove(this);
            relay.accept(downstream, upstream);
        }, () -> refuse(ctx, RefusalReason.UPSTREAM_FAILED));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (decided) {
            ctx.fireChannelRead(msg);
        } else if (msg instanceof ByteBuf) {
            held.add(msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void refuse(ChannelHandlerContext ctx, RefusalReason reason) {
        if (decided) {
            return;
        }
        decided = true;
        stats.refused(reason);
        AccessRecord.of(ctx.channel()).ifPresent(r -> r.refused(reason));
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!decided) {
            refuse(ctx, certificateProblem(cause) ? RefusalReason.UNTRUSTED_PEER : RefusalReason.HANDSHAKE);
        } else {
            ctx.close();
        }
    }
}
