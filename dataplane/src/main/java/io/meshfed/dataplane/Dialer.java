package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the upstream side of a connection: tries a target's upstreams in {@link UpstreamHealth#order} order, each
 * through the {@link UpstreamConnector} of its hop (plain TCP, mTLS with the service's SNI, or a tunnel stream), which
 * accepts an mTLS peer only when its verified SPIFFE ID is one the upstream names. Each failure ejects that upstream
 * (except a refusal of the caller itself, see {@link UpstreamFailure#ejects}) and moves on to the next. The upstream
 * handed to {@code connected} is not reading yet; {@code connected} and {@code exhausted} run on the downstream's
 * event loop.
 */
final class Dialer {
    private static final Logger LOG = LoggerFactory.getLogger(Dialer.class);
    /** One line per carried connection: who, what for, where to, and the upstream's verified identity. */

    private final UpstreamConnectors connectors;
    private final UpstreamHealth health;
    private final Balancing balancing;
    private final ProxyStats stats;

    Dialer(UpstreamConnectors connectors, UpstreamHealth health, Balancing balancing, ProxyStats stats) {
        this.connectors = requireNonNull(connectors, "connectors");
        this.health = requireNonNull(health, "health");
        this.balancing = requireNonNull(balancing, "balancing");
        this.stats = requireNonNull(stats, "stats");
    }

    /** Calls {@code connected} on the downstream's event loop with the first upstream that took it, else {@code exhausted}. */
    void dial(Channel downstream, Target target, BiConsumer<Channel, Upstream> connected, Runnable exhausted) {
        dial(downstream, DialCaller.client(downstream, Optional.empty()), target, connected, exhausted);
    }

    /** As {@link #dial(Channel, Target, BiConsumer, Runnable)}, for a downstream that proved {@code peer}. */
    void dial(Channel downstream, SpiffeId peer, Target target, BiConsumer<Channel, Upstream> connected,
            Runnable exhausted) {
        dial(downstream, DialCaller.identified(peer), target, connected, exhausted);
    }

    /** As {@link #dial(Channel, Target, BiConsumer, Runnable)}, for {@code caller}. */
    void dial(Channel downstream, DialCaller caller, Target target, BiConsumer<Channel, Upstream> connected,
            Runnable exhausted) {
        AccessRecord.of(downstream).ifPresent(r -> r.dialling(target.name(), caller));
        UpstreamRequest request = new UpstreamRequest(downstream.eventLoop(), caller.onBehalfOf());
        next(downstream, caller, request, target, health.order(target, balancing).iterator(), connected, exhausted);
    }

    private void next(Channel downstream, DialCaller from, UpstreamRequest request, Target target,
            Iterator<Upstream> upstreams, BiConsumer<Channel, Upstream> connected, Runnable exhausted) {
        if (!downstream.isActive()) {
            return;
        }
        if (!upstreams.hasNext()) {
            exhausted.run();
            return;
        }
        Upstream u = upstreams.next();
        if (request.onBehalfOf().isPresent() && u.hop() == Upstream.Hop.GATEWAY) {
            // An SNI hop would carry the caller as this proxy itself, with the proxy's rights: a caller that travels
            // under its own identity (an attested pod) goes only where that identity travels, a tunnel.
            LOG.debug("{}: {} skipped for {}, which only a tunnel can carry", target.name(), u,
                    request.onBehalfOf().get());
            next(downstream, from, request, target, upstreams, connected, exhausted);
            return;
        }
        AtomicBoolean reported = new AtomicBoolean();
        connectors.forHop(u.hop()).connect(u, request, new UpstreamConnector.Result() {
            @Override
            public void connected(UpstreamLink link) {
                if (reported.compareAndSet(false, true)) {
                    onLoop(downstream, () -> established(downstream, from, target, link, u, connected));
                } else {
                    link.channel().close();
                }
            }

            @Override
            public void failed(UpstreamFailure failure, String detail) {
                if (reported.compareAndSet(false, true)) {
                    onLoop(downstream, () -> {
                        Dialer.this.failed(u, target, failure, detail);
                        next(downstream, from, request, target, upstreams, connected, exhausted);
                    });
                }
            }
        });
    }

    private static void onLoop(Channel downstream, Runnable task) {
        if (downstream.eventLoop().inEventLoop()) {
            task.run();
        } else {
            downstream.eventLoop().execute(task);
        }
    }

    private void established(Channel downstream, DialCaller from, Target target, UpstreamLink link, Upstream u,
            BiConsumer<Channel, Upstream> connected) {
        Channel upstream = link.channel();
        health.succeeded(u);
        if (!downstream.isActive()) {
            upstream.close(); // the caller went away while the upstream was opened
            return;
        }
        health.opened(u);
        upstream.closeFuture().addListener(c -> health.closed(u));
        // A client named by its address is carried as the identity the proxy presented for it ("as").
        AccessRecord.of(downstream).ifPresent(r -> r.carried(u, link, from));
        connected.accept(upstream, u);
    }

    private void failed(Upstream u, Target target, UpstreamFailure failure, String detail) {
        stats.upstreamFailed(failure);
        if (!failure.ejects()) {
            LOG.warn("{} via {}: {} ({}); trying the next upstream", target.name(), u, failure.label(), detail);
            return;
        }
        Duration ejected = health.failed(u);
        LOG.warn("{} via {}: {} failed ({}); ejected for {} s", target.name(), u, failure.label(), detail,
                ejected.toSeconds());
    }
}
