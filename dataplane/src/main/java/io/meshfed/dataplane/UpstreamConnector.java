package io.meshfed.dataplane;

import io.meshfed.dataplane.ProxyStats.UpstreamFailure;

/**
 * Opens the upstream side of one connection to one {@link Upstream}, the way its {@link Upstream.Hop} is reached:
 * plain TCP, mTLS with the service's SNI, or a stream on a pooled tunnel. The {@link Dialer} above it chooses which
 * upstream to try and keeps health, balancing and failover; a connector only opens, checks who answered, and reports
 * exactly one outcome to its {@link Result}, on any thread. The channel it hands over is not reading yet.
 */
interface UpstreamConnector {
    void connect(Upstream upstream, UpstreamRequest request, Result result);

    /** The one outcome of a {@link #connect}. */
    interface Result {
        void connected(UpstreamLink link);

        /** {@code detail} says what happened, for the log line that names the upstream. */
        void failed(UpstreamFailure failure, String detail);
    }
}
