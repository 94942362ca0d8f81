package io.meshfed.edge;

import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import io.meshfed.dataplane.MeshProxy;
import io.meshfed.dataplane.ProxySettings;
import io.meshfed.dataplane.RouteTable;
import io.meshfed.dataplane.SnapshotTargets;
import io.meshfed.dataplane.Target;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How the edge gateway reaches a federated service: through a {@link MeshProxy} in this process, with one
 * loopback listener per service (its lowest port), which carries each connection to the service's endpoints in
 * the edge's own network (directly, or with mTLS to their VM agent) and then to the other networks' east-west
 * gateways (mTLS with this edge's SVID and the service's SNI), with least-connections balancing, passive health
 * and failover. Spring's load balancer sees a single instance per service: that listener.
 */
final class MeshUpstreams implements AutoCloseable {
    private final MeshProxy proxy;
    private final Map<String, InetSocketAddress> listeners = new ConcurrentHashMap<>();

    MeshUpstreams(TlsCredentials credentials, Clock clock) throws Exception {
        this.proxy = MeshProxy.start(credentials, null, ProxySettings.defaults(), clock);
    }

    /** Listeners for every service of the snapshot; a service keeps its listener for the life of the process. */
    synchronized void update(ConfigSnapshot snapshot) throws IOException {
        Map<InetSocketAddress, Target> outbound = new HashMap<>();
        for (Service s : snapshot.getServicesList()) {
            TreeSet<Integer> ports = new TreeSet<>();
            for (NetworkEndpoints n : s.getNetworksList()) {
                n.getEndpointsList().forEach(e -> ports.add(e.getPort()));
                n.getRoutesList().forEach(r -> ports.add(r.getPort()));
            }
            if (ports.isEmpty()) {
                continue;
            }
            String id = s.getName() + "." + s.getNamespace();
            InetSocketAddress listen = listeners.get(id);
            if (listen == null) {
                listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), freePort());
                listeners.put(id, listen);
            }
            outbound.put(listen, new Target(id + ":" + ports.first(), SnapshotTargets.tiers(s, ports.first(), true),
                    Set.of()));
        }
        proxy.update(new RouteTable(snapshot.getVersion(), Map.of(), outbound));
    }

    /** The loopback address that reaches {@code serviceId} ({@code name.namespace}), when it has upstreams now. */
    Optional<InetSocketAddress> listener(String serviceId) {
        InetSocketAddress a = listeners.get(serviceId);
        if (a == null || !proxy.outboundAddresses().contains(a)) {
            return Optional.empty();
        }
        Target t = proxy.routes().outbound().get(a);
        return t != null && t.hasUpstreams() ? Optional.of(a) : Optional.empty();
    }

    MeshProxy proxy() {
        return proxy;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        proxy.close();
    }
}
