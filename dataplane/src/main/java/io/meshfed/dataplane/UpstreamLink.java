package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import java.util.Optional;

/**
 * An upstream connection a connector opened, not reading yet: the channel bytes are relayed on (a socket, or a
 * tunnel stream), how it is carried ({@code plain}, {@code mTLS}, {@code tunnel}, for the access log), the peer's
 * verified SPIFFE ID when there is one, and the identity the proxy presented for the caller (its own SVID's, or the
 * caller it forwarded).
 */
record UpstreamLink(Channel channel, String transport, Optional<SpiffeId> peer, Optional<SpiffeId> presented) {
    UpstreamLink {
        requireNonNull(channel, "channel");
        requireNonNull(transport, "transport");
        requireNonNull(peer, "peer");
        requireNonNull(presented, "presented");
    }

    static UpstreamLink plain(Channel channel) {
        return new UpstreamLink(channel, "plain", Optional.empty(), Optional.empty());
    }
}
