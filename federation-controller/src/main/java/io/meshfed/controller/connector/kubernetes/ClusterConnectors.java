package io.meshfed.controller.connector.kubernetes;

import io.meshfed.api.v1.ClusterState;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.connector.MemberConnectors;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.ClusterRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.stream.ConfigStreamService;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The Kubernetes members' connectors: one {@link ClusterConnector} per registered cluster, run by the shared
 * {@link MemberConnectors} runtime (new credentials, a rotation, replace the connector; a removed cluster stops
 * it), each made with the cluster's kubeconfig opened from its sealed form.
 */
public final class ClusterConnectors implements AutoCloseable, io.meshfed.controller.leader.LeaderOnly {
    private final Store store;
    private final PortAllocations ports;
    private final MemberConnectors<ClusterRecord, ClusterConnector> connectors;

    /**
     * @param timer times every connector's syncs, retries and grace period (a fake one in tests)
     * @param maxPodsPerCluster beyond this many pods in a cluster, none of its pods is attested
     */
    public ClusterConnectors(Store store, FederationIdentity identity, TrustState trust, ConfigStreamService streams,
            ControllerMetrics metrics, Clock clock, ScheduledExecutorService timer, Duration staleGrace,
            PortAllocations ports, int maxPodsPerCluster) {
        this.store = store;
        this.ports = ports;
        this.connectors = new MemberConnectors<>("cluster", Kind.CLUSTER, ClusterRecord.class, ClusterRecord::name,
                ClusterRecord::generation, store, timer, streams, metrics, (c, executor) -> {
                    String kubeconfig;
                    try {
                        kubeconfig = identity.secrets().open(c.sealedKubeconfig(), ClusterRecord.purpose(c.name()));
                    } catch (RuntimeException e) {
                        throw new IllegalStateException("cannot open its stored credentials: " + e.getMessage(), e);
                    }
                    return new ClusterConnector(c, kubeconfig, store, trust, metrics, clock, staleGrace, ports,
                            maxPodsPerCluster, executor);
                }, ClusterConnector::status);
    }

    /** The outbound listen ports the connectors' writes reconcile. */
    PortAllocations ports() {
        return ports;
    }

    @Override
    public void lead() {
        start();
    }

    /** This replica stopped leading: every connector stops, leaving what it wrote; {@link #lead} starts them again. */
    @Override
    public void follow() {
        connectors.stopAll();
    }

    public void start() {
        connectors.start();
    }

    /** Each cluster's connection state, sorted by name; registered clusters without a connector say so. */
    public List<ClusterState> status() {
        List<ClusterState> states = new ArrayList<>();
        // Those whose connector runs on the leader replica, not here, as it published them.
        var published = connectors.published(ClusterState::newBuilder);
        for (ClusterRecord c : Records.list(store, Kind.CLUSTER, ClusterRecord.class)) {
            states.add(connectors.running(c.name()).map(ClusterConnector::status)
                    .or(() -> Optional.ofNullable(published.get(c.name())).map(ClusterState.Builder::build)
                            .filter(s -> s.getCredentialsGeneration() == c.generation()))
                    .orElseGet(() -> ClusterState.newBuilder().setName(c.name()).setNetwork(c.network())
                            .setTrustDomain(c.trustDomain()).setServer(c.server()).setState("connecting")
                            .setCredentialsGeneration(c.generation()).build()));
        }
        states.sort(Comparator.comparing(ClusterState::getName));
        return states;
    }

    /**
     * Per registered cluster, the bundle set version its trust bundle ConfigMap holds (-1 while its connector has
     * not written it): what a root rotation waits for.
     */
    public java.util.Map<String, Long> trustBundleVersions() {
        java.util.Map<String, Long> versions = new java.util.TreeMap<>();
        for (ClusterRecord c : Records.list(store, Kind.CLUSTER, ClusterRecord.class)) {
            versions.put(c.name(), connectors.running(c.name()).map(ClusterConnector::configMapBundleVersion)
                    .orElse(-1L));
        }
        return versions;
    }

    Optional<ClusterState> status(String name) {
        return status().stream().filter(s -> s.getName().equals(name)).findFirst();
    }

    @Override
    public void close() {
        connectors.close();
    }
}
