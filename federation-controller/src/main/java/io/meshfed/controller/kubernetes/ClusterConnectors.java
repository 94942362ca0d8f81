package io.meshfed.controller.kubernetes;

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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link ClusterConnector} per registered member cluster, each on its own thread. Follows the store: a new
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
    private final int memberPortQuota;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final ExecutorService control = Executors.newSingleThreadExecutor(r -> daemon(r, "cluster-connectors"));
    private Store.Watch watch;

    private record Running(ClusterConnector connector, ScheduledExecutorService executor) {}

    public ClusterConnectors(Store store, FederationIdentity identity, TrustState trust,
            io.meshfed.controller.stream.ConfigStreamService streams, ControllerMetrics metrics, Clock clock,
            Duration staleGrace, int memberPortQuota) {
        this.memberPortQuota = memberPortQuota;
        this.streams = streams;
        this.store = store;
        this.identity = identity;
        this.trust = trust;
        this.metrics = metrics;
        this.clock = clock;
        this.staleGrace = staleGrace;
    }

    public void start() {
        long revision = store.revision();
        for (ClusterRecord c : Records.list(store, Kind.CLUSTER, ClusterRecord.class)) {
            control.execute(() -> reconcile(c.name()));
        }
        watch = store.watch(revision, change -> {
            if (change.kind().equals(Kind.CLUSTER.storeName())) {
                control.execute(() -> reconcile(change.name()));
            }
        });
        streams.onViewRefreshed(view -> running.values().forEach(r -> r.connector().catalogChanged(view)));
    }

    private void reconcile(String name) {
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
            ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r ->
                    daemon(r, "cluster-" + name));
            ClusterConnector connector = new ClusterConnector(c, kubeconfig, store, trust, metrics, clock, staleGrace, memberPortQuota,
                    executor);
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
        r.executor().shutdownNow();
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
        control.shutdown();
        try {
            control.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running.values().forEach(ClusterConnectors::stop);
        running.clear();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
