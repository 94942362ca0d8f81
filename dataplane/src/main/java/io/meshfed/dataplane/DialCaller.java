package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import java.util.Optional;

/**
 * Who a dial is for, as the access log names it: an identified caller (an inbound peer's verified SPIFFE ID, or an
 * identity a gateway forwarded for it), or a plain-TCP client of an outbound listener, named by its address, for
 * which the proxy presents its own SVID or, when it attested the client, forwards {@code onBehalfOf} through a tunnel.
 */
record DialCaller(String from, boolean identified, Optional<SpiffeId> onBehalfOf) {
    DialCaller {
        requireNonNull(from, "from");
        requireNonNull(onBehalfOf, "onBehalfOf");
    }

    /** A verified inbound peer. */
    static DialCaller identified(SpiffeId caller) {
        return new DialCaller(caller.toString(), true, Optional.empty());
    }

    /** An identity a gateway forwarded ({@code via}) and that was accepted for it. */
    static DialCaller forwarded(SpiffeId caller, SpiffeId via) {
        return new DialCaller(caller + " via " + via, true, Optional.empty());
    }

    /** A plain-TCP client of an outbound listener; {@code onBehalfOf} is its attested identity, if any. */
    static DialCaller client(Channel downstream, Optional<SpiffeId> onBehalfOf) {
        return new DialCaller(String.valueOf(downstream.remoteAddress()), false, onBehalfOf);
    }
}
