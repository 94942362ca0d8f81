package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.netty.channel.EventLoop;
import java.util.Optional;

/**
 * What a connector needs besides the upstream: the event loop of the downstream connection (new channels are opened
 * there) and, when the proxy speaks for a caller it attested, that caller's SPIFFE ID ({@code onBehalfOf}), which a
 * tunnel forwards to the destination gateway. Connectors that cannot carry it (plain, mTLS) ignore it.
 */
record UpstreamRequest(EventLoop loop, Optional<SpiffeId> onBehalfOf) {
    UpstreamRequest {
        requireNonNull(loop, "loop");
        requireNonNull(onBehalfOf, "onBehalfOf");
    }
}
