package io.meshfed.dataplane;

/**
 * {@link Upstream.Hop#TUNNEL}: a CONNECT stream on a pooled HTTP/2 connection to another network's tunnel listener
 * (see {@link TunnelPool}), instead of a TLS connection per downstream connection.
 */
final class TunnelConnector implements UpstreamConnector {
    private final TunnelPool pool;

    TunnelConnector(TunnelPool pool) {
        this.pool = pool;
    }

    @Override
    public void connect(Upstream upstream, UpstreamRequest request, Result result) {
        pool.open(upstream, request, result);
    }
}
