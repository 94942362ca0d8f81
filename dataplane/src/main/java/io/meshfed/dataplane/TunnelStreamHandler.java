package io.meshfed.dataplane;

import io.meshfed.api.ServiceAuthority;
import io.meshfed.api.ServiceSni;
import io.meshfed.api.TunnelHeaders;
import io.meshfed.dataplane.ProxyStats.Direction;
import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides one stream of the tunnel listener from its request headers, before any of its bytes go anywhere: the
 * method must be CONNECT (405), the {@code :authority} a {@link ServiceAuthority} (400); the caller is the TLS peer,
 * or the identity it forwarded when {@link ForwardedIdentity} accepts it (403 {@code forged_identity}); a revoked
 * peer is refused (403); then the {@link InboundPolicy} decides (403, 404 for a service not here), and the local
 * upstream is dialled (503 when none answers). Only once the upstream is connected is 200 sent and the stream
 * relayed. Every refusal ends the stream with its status and the reason in {@code meshfed-refusal}, and is counted.
 */
final class TunnelStreamHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(TunnelStreamHandler.class);

    private final TunnelInbound inbound;
    private final SpiffeId peer;
    private final java.time.Instant peerNotAfter;
    private boolean started;

    TunnelStreamHandler(TunnelInbound inbound, SpiffeId peer, java.time.Instant peerNotAfter) {
        this.inbound = inbound;
        this.peer = peer;
        this.peerNotAfter = peerNotAfter;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        AccessRecord.open(ctx.channel(), "tunnel").caller(peer.toString());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (started || !(msg instanceof Http2HeadersFrame request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        started = true;
        ctx.channel().config().setAutoRead(false); // DATA waits (held, then flow control) until decided
        decide(ctx, request.headers());
    }

    private void decide(ChannelHandlerContext ctx, Http2Headers request) {
        if (request.method() == null || !HttpMethod.CONNECT.asciiName().contentEquals(request.method())) {
            refuse(ctx, RefusalReason.METHOD_NOT_ALLOWED, "the method is " + request.method() + ", not CONNECT");
            return;
        }
        CharSequence authorityText = request.authority();
        Optional<ServiceAuthority> authority = ServiceAuthority.tryParse(authorityText == null ? null
                : authorityText.toString());
        if (authority.isEmpty()) {
            refuse(ctx, RefusalReason.BAD_AUTHORITY, "the authority is not " + ServiceAuthority.FORM);
            return;
        }
        if (!inbound.clock().instant().isBefore(peerNotAfter)) {
            // The tunnel outlived its peer's SVID: no new flow on it, and the connection goes (a renewed peer
            // handshakes again with its new SVID).
            refuse(ctx, RefusalReason.UNTRUSTED_PEER, "the peer " + peer + "'s SVID expired at " + peerNotAfter);
            ctx.channel().parent().close();
            return;
        }
        if (inbound.revoked().test(peer)) {
            refuse(ctx, RefusalReason.REVOKED, "the peer " + peer + " is revoked");
            return;
        }
        List<CharSequence> forwarded = request.getAll(TunnelHeaders.FORWARDED_IDENTITY);
        SpiffeId caller = peer;
        if (!forwarded.isEmpty()) {
            Optional<SpiffeId> accepted = ForwardedIdentity.accept(peer, forwarded, inbound.forwarders().get());
            if (accepted.isEmpty()) {
                refuse(ctx, RefusalReason.FORGED_IDENTITY, peer + " may not speak for " + forwarded + " (gateways"
                        + " that may forward: those of trust domains " + inbound.forwarders().get() + ")");
                return;
            }
            caller = accepted.get();
        }
        ServiceSni service = authority.get().sni();
        Optional<SpiffeId> via = forwarded.isEmpty() ? Optional.empty() : Optional.of(peer);
        CallerDecision decision = inbound.admitted().admit(service, caller, via, ctx.channel(), inbound.policy());
        if (!decision.allowed()) {
            refuse(ctx, decision.refusal().get(), caller + " for " + service + " (" + decision.rule() + ")");
            return;
        }
        Optional<Target> target = inbound.routes().apply(service);
        if (target.isEmpty() || !target.get().hasUpstreams()) {
            refuse(ctx, RefusalReason.UNKNOWN_SERVICE, "no upstream for " + service);
            return;
        }
        Http2StreamChannel stream = (Http2StreamChannel) ctx.channel();
        DialCaller who = forwarded.isEmpty() ? DialCaller.identified(caller) : DialCaller.forwarded(caller, peer);
        inbound.dialer().dial(stream, who, target.get(), (upstream, u) -> {
            if (!stream.isActive() || !inbound.admitted().isAdmitted(stream)) {
                // A new policy refused the caller while dialling, or the stream went away: nothing goes upstream.
                upstream.close();
                return;
            }
            accepted(ctx, stream, upstream);
        },
                () -> refuse(ctx, RefusalReason.UPSTREAM_FAILED, "no upstream of " + service + " answered"));
    }

    private void accepted(ChannelHandlerContext ctx, Http2StreamChannel stream, Channel upstream) {
        ProxyStats stats = inbound.stats();
        stats.inboundRouted.increment();
        stats.tunnelStream(Direction.INBOUND, ProxyStats.OK);
        stats.streamOpened();
        stream.closeFuture().addListener(f -> stats.streamClosed());
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
        TunnelFrames.open(ctx);
        ctx.pipeline().remove(this);
        inbound.relay().accept(stream, upstream);
    }

    private void refuse(ChannelHandlerContext ctx, RefusalReason reason, String detail) {
        inbound.stats().refused(reason);
        inbound.stats().tunnelStream(Direction.INBOUND, reason.label());
        AccessRecord.of(ctx.channel()).ifPresent(r -> r.refused(reason));
        LOG.debug("tunnel stream from {} refused ({}): {}", peer, reason.label(), detail);
        Http2Headers answer = new DefaultHttp2Headers().status(String.valueOf(status(reason)))
                .set(TunnelHeaders.REFUSAL, reason.label());
        ctx.channel().writeAndFlush(new DefaultHttp2HeadersFrame(answer, true))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /** The HTTP status a refusal is answered with. */
    static int status(RefusalReason reason) {
        return switch (reason) {
            case BAD_AUTHORITY -> 400;
            case METHOD_NOT_ALLOWED -> 405;
            case UNKNOWN_SERVICE -> 404;
            case UPSTREAM_FAILED -> 503;
            default -> 403;
        };
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("tunnel stream from {}: {}", peer, cause.toString());
        ctx.close();
    }
}
