/**
 * The proxies' data path, shared by the east-west gateway and the VM agent: an mTLS listener that routes by SNI
 * and authorizes the peer's trust domain before any byte reaches a workload ({@link InboundHandler}), plain-TCP
 * listeners that carry connections out over mTLS ({@link MeshProxy}), upstream choice by tier with round robin or
 * least connections and passive health ejection ({@link UpstreamHealth}, {@link Dialer}), relays with backpressure,
 * idle timeouts and byte counts ({@link Relay}), and graceful drain.
 */
package io.meshfed.dataplane;
