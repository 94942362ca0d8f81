package io.meshfed.controller.connector.kubernetes;

import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.api.v1.ClusterState;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.ClusterRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.store.Store;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link ClusterConnector} per registered member cluster, each on its own serial executor; starting, replacing
 * and stopping them runs on one more ({@code cluster-connectors}). Follows the store: a new
 * cluster starts a connector, new credentials (a rotation) replace it, a removed cluster stops it. Each catalog view
 * the config streams refresh to is handed to every connector, so imports and the trust bundle ConfigMap follow
 * without another read of the store.
 */
public final class ClusterConnectors implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterConnectors.class);

    private final Store store;
    private final FederationIdentity identity;
    private final TrustState trust;
    private final io.meshfed.controller.stream.ConfigStreamService streams;
    private final ControllerMetrics metrics;
    private final Clock clock;
    private final Duration staleGrace;
    private final io.meshfed.controller.catalog.PortAllocations ports;
    private final int maxPodsPerCluster;
    /** Changed on {@code control} only; read anywhere (status, catalog views). */
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private final SerialExecutor control;
    private Store.Watch watch;

    private record Running(ClusterConnector connector, SerialExecutor executor) {}

    /**
     * @param timer times every connector's syncs, retries and grace period (a fake one in tests)
     * @param maxPodsPerCluster beyond this many pods in a cluster, none of its pods is attested
     */
    public ClusterConnectors(Store store, FederationIdentity identity, TrustState trust,
            io.meshfed.controller.stream.ConfigStreamService streams, ControllerMetrics metrics, Clock clock,
            ScheduledExecutorService timer, Duration staleGrace, io.meshfed.controller.catalog.PortAllocations ports,
            int maxPodsPerCluster) {
        this.maxPodsPerCluster = maxPodsPerCluster;
        this.timer = timer;
        this.control = SerialExecutor.start("cluster-connectors", timer);
        this.ports = ports;
        this.streams = streams;
        this.store = store;
        this.identity = identity;
        this.trust = trust;
        this.metrics = metrics;
        this.clock = clock;
        this.staleGrace = staleGrace;
    }

    /** The outbound listen ports the connectors' writes reconcile. */
    io.meshfed.controller.catalog.PortAllocations ports() {
        return ports;
    }

    public void start() {
        long revision = store.revision();
        for (ClusterRecord c : Records.list(store, Kind.CLUSTER, ClusterRecord.class)) {
            control.execute(() -> reconcile(c.name()));
        }
        watch = store.watch(revision, change -> {
            if (change.kind().equals(Kind.CLUSTER.storeName())) {
                control.executeIfRunning(() -> reconcile(change.name()));
            }
        });
        streams.onViewRefreshed(view -> running.values().forEach(r -> r.connector().catalogChanged(view)));
    }

    private void reconcile(String name) {
        control.checkInContext();
        Optional<ClusterRecord> record = Records.get(store, Kind.CLUSTER, name, ClusterRecord.class);
        Running current = running.get(name);
        if (current != null && record.isPresent() && current.connector().generation() == record.get().generation()) {
            return;
        }
        if (record.isPresent()) {
            ClusterRecord c = record.get();
            String kubeconfig;
            try {
                kubeconfig = identity.secrets().open(c.sealedKubeconfig(), ClusterRecord.purpose(name));
            } catch (RuntimeException e) {
                LOG.error("cluster {}: cannot open its stored credentials: {}", name, e.getMessage());
                return;
            }
            SerialExecutor executor = SerialExecutor.start("cluster-" + name, timer);
            ClusterConnector connector = new ClusterConnector(c, kubeconfig, store, trust, metrics, clock, staleGrace,
                    ports, maxPodsPerCluster, executor);
            // The new connector starts before the old one stops: a rotation never leaves the cluster unwatched.
            running.put(name, new Running(connector, executor));
            connector.start();
            LOG.info("cluster {}: connector started (credentials generation {})", name, c.generation());
        } else {
            running.remove(name);
            metrics.forgetCluster(name);
        }
        if (current != null) {
            stop(current);
        }
    }

    private static void stop(Running r) {
        r.connector().close();
        r.executor().shutdownNow(); // close() ran its last task on it
    }

    /** Each cluster's connection state, sorted by name; registered clusters without a connector say so. */
    public List<ClusterState> status() {
        List<ClusterState> states = new ArrayList<>();
        for (ClusterRecord c : Records.list(store, Kind.CLUSTER, ClusterRecord.class)) {
            Running r = running.get(c.name());
            states.add(r != null ? r.connector().status() : ClusterState.newBuilder().setName(c.name())
                    .setNetwork(c.network()).setTrustDomain(c.trustDomain()).setServer(c.server())
                    .setState("connecting").setCredentialsGeneration(c.generation()).build());
        }
        states.sort(java.util.Comparator.comparing(ClusterState::getName));
        return states;
    }

    Optional<ClusterState> status(String name) {
        return status().stream().filter(s -> s.getName().equals(name)).findFirst();
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
        control.shutdown(Duration.ofSeconds(10));
        running.values().forEach(ClusterConnectors::stop);
        running.clear();
    }
}
