package io.meshfed.controller.connector.kubernetes;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.ReducedStateItemStore;
import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.api.v1.ClusterState;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.controller.catalog.CatalogView;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.catalog.MemberAddresses;
import io.meshfed.controller.catalog.MemberExports;
import io.meshfed.controller.catalog.SnapshotBuilder;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.ClusterRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.connector.ConnectorState;
import io.meshfed.controller.connector.Debounced;
import io.meshfed.controller.connector.MemberConnectors;
import io.meshfed.controller.model.MemberType;
import io.meshfed.controller.model.PodIdentitiesRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's connection to one member cluster, with the connector's own scoped credentials. Informers on
 * Services, EndpointSlices, ServiceExports and the ServiceImports it owns feed two syncs, run one at a time on the
 * connector's thread: exports (the cluster's exported endpoints become its workload set in the store, and each
 * ServiceExport gets the MCS conditions Valid, Conflict and Exported) and imports (ServiceImports, derived Services
 * and gateway EndpointSlices for what the cluster may import, plus the trust bundle ConfigMap; objects it owns that
 * are no longer wanted are deleted). When the API server becomes unreachable the endpoints stay, stale, for the
 * grace period, and are then marked unhealthy until the informers are watching again, when a full resync replaces
 * the set (so nothing is duplicated).
 *
 * <p>A Pods informer (keeping only the fields attestation reads) feeds a third sync of its own, so pod churn never
 * costs an export or import comparison: the pods the cluster's east-west gateways may attest by source address
 * ({@link AttestablePods}), written as the member's {@link PodIdentitiesRecord} shards (only the shards that changed).
 * Pods are attested only from a live watch: when the Pods watch has stopped for longer than a routine reconnect, or
 * the cluster becomes unreachable, the cluster's pod identities are withdrawn until it watches again. A forbidden
 * Pods watch (a cluster joined before the connector needed pods) is said in the status; the rest keeps working.
 */
final class ClusterConnector implements MemberConnectors.Connector {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterConnector.class);
    private static final Duration SYNC_DELAY = Duration.ofMillis(50);
    /**
     * Catalog changes elsewhere are coalesced for this long before this cluster's imports are compared: a burst of
     * changes costs one sync, and the syncs of every cluster do not compete with the config push they follow.
     */
    private static final Duration CATALOG_DELAY = Duration.ofSeconds(1);
    private static final Duration HEALTH_CHECK = Duration.ofMillis(500);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** Informers re-establish watches routinely (the API server ends them): only a longer gap is an outage. */
    private static final Duration WATCH_GAP = Duration.ofSeconds(3);
    /** What the Pods informer keeps of each pod (besides its namespace, name and resource version). */
    private static final String[] POD_FIELDS = {"spec.serviceAccountName", "spec.hostNetwork", "status.phase",
        "status.podIP", "status.podIPs"};

    private final ClusterRecord record;
    private final Config config;
    private final Store store;
    private final TrustState trust;
    private final ControllerMetrics metrics;
    private final Clock clock;
    private final Duration staleGrace;
    private final MemberExports memberExports;
    private final int maxPods;
    private final SerialExecutor executor;

    // Everything below is touched on the executor thread only, but for status() (volatile reads).
    private KubernetesClient client;
    private SharedIndexInformer<Service> services;
    private SharedIndexInformer<EndpointSlice> slices;
    private SharedIndexInformer<GenericKubernetesResource> exports;
    private SharedIndexInformer<GenericKubernetesResource> imports;
    private SharedIndexInformer<Pod> pods; // not among the informers a sync waits for: attestation is optional
    private volatile ConnectorState state = ConnectorState.CONNECTING;
    private volatile Instant lastSync;
    private volatile String lastError = "";
    private volatile int exportedServices;
    private volatile int importedServices;
    private final Debounced pendingSync;
    private volatile CatalogView latestView; // the config streams' latest; null until their first refresh
    private boolean clusterDirty = true; // set by informer events; the import and bundle comparisons need it
    private int appliedImports; // hash of what the last import sync applied (outbound listeners, gateway IPs)
    private long appliedBundleVersion = -1;
    /** The bundle set version the cluster's trust bundle ConfigMap holds, as last written or checked; -1: not yet. */
    private volatile long configMapBundleVersion = -1;
    private SerialExecutor.Scheduled withdrawal;
    private SerialExecutor.Scheduled healthCheck;
    private Duration backoff = Duration.ofSeconds(1);
    private SerialExecutor.Scheduled watchGap; // pending from the first check that found an informer not watching
    private boolean closed;
    // Pod attestation.
    private volatile String podsError = ""; // why the Pods watch fails (forbidden, ...); cleared once it watches
    private volatile String podsStatus = ""; // what the last pod sync left out, or that attestation is off
    private volatile int attestedPods;
    private SerialExecutor.Scheduled pendingPodSync;
    private boolean podsDirty = true; // pods changed since the last pod sync wrote them
    private Map<Integer, List<PodIdentitiesRecord.Pod>> appliedPods; // per shard, as stored; null: not known yet
    private SerialExecutor.Scheduled podsGap; // pending from the first check that found the Pods watch stopped

    /** @param maxPods beyond this many pods in the cluster, none is attested */
    ClusterConnector(ClusterRecord record, String kubeconfig, Store store, TrustState trust, ControllerMetrics metrics,
            Clock clock, Duration staleGrace, PortAllocations ports, int maxPods, SerialExecutor executor) {
        this.memberExports = new MemberExports(ports);
        this.maxPods = maxPods;
        this.record = record;
        this.config = connectorConfig(kubeconfig);
        this.store = store;
        this.trust = trust;
        this.metrics = metrics;
        this.clock = clock;
        this.staleGrace = staleGrace;
        this.executor = executor;
        this.pendingSync = new Debounced(executor, this::sync);
    }

    static Config connectorConfig(String kubeconfig) {
        ConnectorKubeconfig.checkInline(kubeconfig); // also for a record registered before the check
        Config c = Config.fromKubeconfig(kubeconfig);
        c.setUserAgent("meshfed-connector");
        c.setWatchReconnectInterval(500);
        c.setWatchReconnectLimit(-1);
        c.setRequestTimeout(10_000);
        c.setConnectionTimeout(5_000);
        c.setRequestRetryBackoffLimit(0); // the connector retries on its own schedule
        if (c.getMasterUrl() != null && c.getMasterUrl().startsWith("http:")) {
            // No h2c upgrade in clear text: servers that answer it with HTTP/1.1 break the JDK client's framing.
            c.setHttp2Disable(true);
        }
        return c;
    }

    @Override
    public long generation() {
        return record.generation();
    }

    @Override
    public void start() {
        metrics.clusterGauge("meshfed.cluster.connected", "1 while the connector is synced with the member cluster",
                record.name(), () -> state == ConnectorState.SYNCED ? 1 : 0);
        metrics.memberConnected(record.name(), MemberType.KUBERNETES.name(), () -> state == ConnectorState.SYNCED ? 1 : 0);
        metrics.clusterGauge("meshfed.cluster.attested.pods", "Pods of the member cluster that its east-west"
                + " gateways attest by source address", record.name(), () -> attestedPods);
        executor.execute(this::connect);
    }

    /** The catalog, the bundles or the gateways changed: what this cluster imports may have too. */
    @Override
    public void catalogChanged(CatalogView view) {
        latestView = view;
        executor.executeIfRunning(() -> requestSync(CATALOG_DELAY));
    }

    /**
     * The last error, followed by the shortfall of outbound listen ports in this cluster's network (imported service
     * ports that got none), as the latest catalog view records it.
     */
    private String withPortShortfall(String error) {
        CatalogView view = latestView;
        var shortfall = view == null ? null : view.portShortfalls().get(record.network());
        if (shortfall == null) {
            return error;
        }
        return error.isEmpty() ? shortfall.describe() : error + "; " + shortfall.describe();
    }

    ClusterState status() {
        ClusterState.Builder b = ClusterState.newBuilder().setName(record.name()).setNetwork(record.network())
                .setTrustDomain(record.trustDomain()).setServer(record.server()).setState(state.label())
                .setLastError(withPortShortfall(lastErrors())).setExportedServices(exportedServices)
                .setImportedServices(importedServices).setCredentialsGeneration(record.generation());
        Instant t = lastSync;
        if (t != null) {
            b.setLastSync(com.google.protobuf.Timestamp.newBuilder().setSeconds(t.getEpochSecond())
                    .setNanos(t.getNano()));
        }
        return b.build();
    }

    /** The last sync's error, then what keeps pods from being attested; empty when neither. */
    private String lastErrors() {
        return java.util.stream.Stream.of(lastError, podsError, podsStatus).filter(e -> !e.isEmpty())
                .collect(java.util.stream.Collectors.joining("; "));
    }

    private void connect() {
        executor.checkInContext();
        if (closed) {
            return;
        }
        try {
            client = new KubernetesClientBuilder().withConfig(config).build();
            ResourceEventHandler<HasMetadata> handler = new ResourceEventHandler<>() {
                @Override
                public void onAdd(HasMetadata o) {
                    executor.executeIfRunning(ClusterConnector.this::clusterChanged);
                }

                @Override
                public void onUpdate(HasMetadata old, HasMetadata o) {
                    executor.executeIfRunning(ClusterConnector.this::clusterChanged);
                }

                @Override
                public void onDelete(HasMetadata o, boolean unknownFinalState) {
                    executor.executeIfRunning(ClusterConnector.this::clusterChanged);
                }
            };
            services = client.services().inAnyNamespace().runnableInformer(0);
            slices = client.discovery().v1().endpointSlices().inAnyNamespace().runnableInformer(0);
            exports = client.genericKubernetesResources(Mcs.SERVICE_EXPORT).inAnyNamespace().runnableInformer(0);
            imports = client.genericKubernetesResources(Mcs.SERVICE_IMPORT).inAnyNamespace()
                    .withLabel("meshfed.io/cluster", record.name()).runnableInformer(0);
            List<SharedIndexInformer<?>> all = List.of(services, slices, exports, imports);
            for (SharedIndexInformer<?> i : all) {
                @SuppressWarnings({"unchecked", "rawtypes"})
                SharedIndexInformer<HasMetadata> informer = (SharedIndexInformer) i;
                informer.addEventHandler(handler);
                informer.exceptionHandler((started, t) -> {
                    metrics.cluster(record.name(), "watch_error");
                    lastError = message(t);
                    return true; // keep retrying: an unreachable API server is expected to come back
                });
            }
            CompletableFuture.allOf(all.stream().map(i -> i.start().toCompletableFuture())
                    .toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            backoff = Duration.ofSeconds(1);
            LOG.info("cluster {}: informers synced from {}", record.name(), record.server());
            startPodsInformer();
            healthCheck = executor.repeat(this::checkWatching, HEALTH_CHECK, HEALTH_CHECK);
            clusterChanged();
        } catch (Exception e) {
            Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null
                    ? e.getCause() : e;
            lastError = message(cause);
            metrics.cluster(record.name(), "watch_error");
            LOG.warn("cluster {}: cannot reach the API server {}: {}; retrying in {}", record.name(), record.server(),
                    lastError, backoff);
            stopInformers();
            becameUnreachable();
            executor.schedule(this::connect, backoff);
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    private boolean watching() {
        return services.isWatching() && slices.isWatching() && exports.isWatching() && imports.isWatching();
    }

    private void checkWatching() {
        executor.checkInContext();
        if (!watching()) {
            if (watchGap == null) {
                watchGap = executor.schedule(this::watchGapEnded, WATCH_GAP);
            }
        } else {
            if (watchGap != null) {
                watchGap.cancel();
                watchGap = null;
            }
            if (state.unreachable()) {
                LOG.info("cluster {}: API server reachable again; resyncing", record.name());
                clusterChanged();
            }
        }
        checkPodsWatching();
    }

    /** An informer has not been watching since {@link #WATCH_GAP} ago: unless it is back now, this is an outage. */
    private void watchGapEnded() {
        executor.checkInContext();
        watchGap = null;
        if (!closed && services != null && !watching()) {
            becameUnreachable();
        }
    }

    /**
     * Endpoints stay for the grace period (stale), then are withdrawn until the cluster is back. Pod identities are
     * withdrawn at once: a pod IP freed meanwhile may already be another pod's.
     */
    private void becameUnreachable() {
        executor.checkInContext();
        if (state.unreachable()) {
            withdrawPods("the API server is unreachable");
            return;
        }
        boolean hadSynced = lastSync != null || Records.get(store, Kind.WORKLOADS,
                ClusterRecord.workloadSetKey(record.name()), WorkloadSetRecord.class).isPresent();
        state = hadSynced ? ConnectorState.STALE : ConnectorState.CONNECTING; // before the pods go, so a status read after their push says why
        withdrawPods("the API server is unreachable");
        if (hadSynced) {
            LOG.warn("cluster {}: API server unreachable; its endpoints stay for {} ({})", record.name(), staleGrace,
                    lastError);
            withdrawal = executor.schedule(this::withdraw, staleGrace);
        }
    }

    private void withdraw() {
        executor.checkInContext();
        if (state != ConnectorState.STALE) {
            return;
        }
        String key = ClusterRecord.workloadSetKey(record.name());
        store.transact(tx -> {
            if (!stillCurrent(tx)) {
                return null;
            }
            Records.get(tx, Kind.WORKLOADS, key, WorkloadSetRecord.class).ifPresent(set ->
                    Records.put(tx, Kind.WORKLOADS, key, set.allUnhealthy(), StoreTransaction.ANY));
            return null;
        });
        state = ConnectorState.WITHDRAWN;
        LOG.warn("cluster {}: unreachable for {}; its endpoints are withdrawn until it is back", record.name(),
                staleGrace);
    }

    /** Something changed in the cluster itself: its objects must be compared again, not only the catalog. */
    private void clusterChanged() {
        clusterDirty = true;
        requestSync();
    }

    /** Whether this connector's cluster record (same credentials generation) is still registered. */
    private boolean stillCurrent(io.meshfed.controller.store.StoreReader tx) {
        return Records.get(tx, Kind.CLUSTER, record.name(), ClusterRecord.class)
                .filter(c -> c.generation() == record.generation()).isPresent();
    }

    private void requestSync() {
        requestSync(SYNC_DELAY);
    }

    /**
     * One sync after {@code delay}, unless one is already due sooner (it will see this change too); a sooner
     * request moves a pending sync forward.
     */
    private void requestSync(Duration delay) {
        executor.checkInContext();
        if (closed || services == null) {
            return;
        }
        pendingSync.request(delay);
    }

    private void sync() {
        executor.checkInContext();
        if (closed || services == null) {
            return;
        }
        if (!watching()) {
            // The caches may be behind: syncing from them could withdraw what still exists. Try again shortly;
            // checkWatching decides whether this is an outage.
            executor.schedule(() -> requestSync(), HEALTH_CHECK);
            return;
        }
        try {
            boolean dirty = clusterDirty;
            clusterDirty = false;
            syncExports();
            syncImports(dirty);
            syncTrustBundle(dirty);
            if (withdrawal != null) {
                withdrawal.cancel();
                withdrawal = null;
            }
            state = ConnectorState.SYNCED;
            lastSync = clock.instant();
            lastError = "";
            metrics.cluster(record.name(), "resync");
        } catch (RuntimeException e) {
            // A Kubernetes error is expected now and then; anything else is a bug. Neither may end the connector's
            // loop silently: say it, count it, compare everything again in a second.
            boolean kubernetes = e instanceof KubernetesClientException;
            clusterDirty = true;
            lastError = message(e);
            metrics.cluster(record.name(), kubernetes ? "watch_error" : "sync_error");
            if (kubernetes) {
                LOG.warn("cluster {}: sync failed, retrying in 1 s: {}", record.name(), lastError);
            } else {
                LOG.error("cluster {}: sync failed, retrying in 1 s", record.name(), e);
            }
            executor.schedule(() -> requestSync(), Duration.ofSeconds(1));
        }
    }

    /**
     * The endpoints that may be dialled in plain TCP (see {@link MemberAddresses#endpointRefusal}); the others are
     * left out, logged and counted ({@code endpoint_refused}).
     */
    private List<WorkloadSetRecord.Workload> dialable(List<WorkloadSetRecord.Workload> workloads) {
        MemberAddresses rule = Records.get(store, Kind.MEMBER, record.name(), MemberRecord.class)
                .map(MemberAddresses::of).orElse(null);
        if (rule == null) {
            return List.of(); // the member is gone: nothing of it may be dialled
        }
        MemberAddresses.Dialable d = rule.dialable(workloads);
        for (int i = 0; i < d.refused(); i++) {
            metrics.cluster(record.name(), "endpoint_refused");
        }
        if (d.refused() > 0) { // one line per sync, however many
            LOG.warn("cluster {}: {} endpoint(s) left out (first: {})", record.name(), d.refused(), d.firstRefusal());
        }
        return d.kept();
    }

    private void syncExports() {
        ExportedEndpoints.Result result = ExportedEndpoints.compute(exports.getStore().list(),
                key -> Optional.ofNullable(services.getStore().getByKey(key)), slices.getStore().list());
        String key = ClusterRecord.workloadSetKey(record.name());
        WorkloadSetRecord next = new WorkloadSetRecord(key, record.name(), record.network(),
                dialable(result.workloads()));
        // A ServiceExport exports to the whole clusterset (MCS); `meshfed export` may narrow it later. It covers this
        // cluster's own instances only: a cluster cannot export another member's service.
        List<MemberExports.Offer> offers = result.exports().stream().filter(ExportedEndpoints.ExportState::valid)
                .map(e -> new MemberExports.Offer(e.name(), e.namespace(), e.ports())).toList();
        Optional<MemberExports.Outcome> written = store.transact(tx -> stillCurrent(tx)
                ? Optional.of(memberExports.write(tx, next, offers))
                : Optional.<MemberExports.Outcome>empty()); // unregistered or rotated meanwhile: no more writes
        if (written.isEmpty()) {
            return;
        }
        written.get().shortfall().ifPresent(shortfall -> {
            // what the cluster's own network imports without a port; it also shows in its status
            LOG.warn("cluster {}: {}; they are not reachable from it", record.name(), shortfall.describe());
            metrics.cluster(record.name(), shortfall.exhausted() > 0 ? "port_exhausted" : "port_quota");
        });
        exportedServices = offers.size();
        for (ExportedEndpoints.ExportState e : result.exports()) {
            updateExportStatus(e, written.get().conflicts().get(e.namespace() + "/" + e.name()));
        }
    }

    private void updateExportStatus(ExportedEndpoints.ExportState e, String conflict) {
        GenericKubernetesResource current = exports.getStore().getByKey(e.namespace() + "/" + e.name());
        if (current == null) {
            return;
        }
        List<Map<String, Object>> conditions = List.of(
                condition(current, "Valid", e.valid(), e.valid() ? "Valid" : e.reason(),
                        e.valid() ? "the Service can be exported" : e.message()),
                condition(current, "Conflict", conflict != null, conflict != null ? "PortConflict" : "NoConflicts",
                        conflict != null ? conflict : "no conflicting properties"),
                condition(current, "Exported", e.valid(), e.valid() ? "ServiceExported" : e.reason(), e.message()));
        Object status = current.getAdditionalProperties().get("status");
        if (status instanceof Map<?, ?> m && conditions.equals(m.get("conditions"))) {
            return;
        }
        GenericKubernetesResource updated = new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder(
                current).build();
        updated.getAdditionalProperties().put("status", Map.of("conditions", conditions));
        client.genericKubernetesResources(Mcs.SERVICE_EXPORT).inNamespace(e.namespace()).resource(updated)
                .updateStatus();
    }

    /** A condition, keeping its lastTransitionTime when the status did not change. */
    private Map<String, Object> condition(GenericKubernetesResource current, String type, boolean value,
            String reason, String message) {
        String status = value ? "True" : "False";
        String since = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        if (current.getAdditionalProperties().get("status") instanceof Map<?, ?> s
                && s.get("conditions") instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> c && type.equals(c.get("type")) && status.equals(c.get("status"))
                        && c.get("lastTransitionTime") != null) {
                    since = String.valueOf(c.get("lastTransitionTime"));
                }
            }
        }
        Map<String, Object> c = new java.util.LinkedHashMap<>();
        c.put("type", type);
        c.put("status", status);
        c.put("reason", reason);
        c.put("message", message);
        c.put("lastTransitionTime", since);
        return c;
    }

    /**
     * Imports depend only on the outbound listeners and the gateway: when neither changed and nothing changed in
     * the cluster, the (costly) comparison of every owned object is skipped.
     */
    private void syncImports(boolean dirty) {
        CatalogView view = latestView != null ? latestView : CatalogView.load(store, trust);
        ConfigSnapshot snapshot = SnapshotBuilder.build(view, record.name(), record.network());
        String gateway = view.gatewayAddress(record.network());
        List<String> gatewayIps = gateway.isEmpty() ? List.of()
                : List.of(io.meshfed.api.HostPort.parse(gateway).getHostString());
        int inputs = java.util.Objects.hash(snapshot.getOutboundList(), gatewayIps);
        if (!dirty && inputs == appliedImports) {
            return;
        }
        ImportedServices.Desired desired = ImportedServices.compute(record.name(), snapshot, gatewayIps);
        importedServices = desired.serviceImports().size();
        // The derived Service and its EndpointSlice first: once a ServiceImport is visible, it can be used.
        apply(desired.services(), services.getStore().list(),
                o -> client.services().inNamespace(o.getMetadata().getNamespace()).resource(o));
        apply(desired.endpointSlices(), slices.getStore().list(),
                o -> client.discovery().v1().endpointSlices().inNamespace(o.getMetadata().getNamespace())
                        .resource(o));
        apply(desired.serviceImports(), imports.getStore().list(),
                o -> client.genericKubernetesResources(Mcs.SERVICE_IMPORT).inNamespace(o.getMetadata().getNamespace())
                        .resource(o));
        appliedImports = inputs;
    }

    private <T extends HasMetadata> void apply(List<T> desired, List<T> current,
            java.util.function.Function<T, io.fabric8.kubernetes.client.dsl.Resource<T>> resource) {
        Map<String, T> ours = new HashMap<>();
        for (T o : current) {
            if (Mcs.owned(o) && record.name().equals(o.getMetadata().getLabels().get("meshfed.io/cluster"))) {
                ours.put(o.getMetadata().getNamespace() + "/" + o.getMetadata().getName(), o);
            }
        }
        for (T want : desired) {
            T have = ours.remove(want.getMetadata().getNamespace() + "/" + want.getMetadata().getName());
            if (have == null) {
                resource.apply(want).create();
            } else if (!ImportedServices.same(have, want)) {
                want.getMetadata().setResourceVersion(have.getMetadata().getResourceVersion());
                if (want instanceof Service s && have instanceof Service h) {
                    s.getSpec().setClusterIP(h.getSpec().getClusterIP()); // immutable once allocated
                    s.getSpec().setClusterIPs(h.getSpec().getClusterIPs());
                }
                resource.apply(want).update();
            }
        }
        for (T stale : ours.values()) {
            resource.apply(stale).delete();
        }
    }

    private void syncTrustBundle(boolean dirty) {
        io.meshfed.trust.BundleSet bundles = trust.bundleSet(store);
        if (!dirty && bundles.version() == appliedBundleVersion) {
            return;
        }
        ConfigMap want = TrustBundleConfigMap.of(record.name(), bundles);
        var resource = client.configMaps().inNamespace(Mcs.SYSTEM_NAMESPACE).resource(want);
        ConfigMap have = client.configMaps().inNamespace(Mcs.SYSTEM_NAMESPACE).withName(Mcs.TRUST_BUNDLE_CONFIGMAP)
                .get();
        if (have == null) {
            resource.create();
        } else if (!want.getData().equals(have.getData())) {
            want.getMetadata().setResourceVersion(have.getMetadata().getResourceVersion());
            client.configMaps().inNamespace(Mcs.SYSTEM_NAMESPACE).resource(want).update();
        }
        appliedBundleVersion = bundles.version();
        configMapBundleVersion = bundles.version();
    }

    /** The bundle set version the cluster's trust bundle ConfigMap holds (-1 before it was written). */
    long configMapBundleVersion() {
        return configMapBundleVersion;
    }

    /**
     * Starts the Pods informer without waiting for it: a cluster whose connector may not watch pods (joined before
     * attestation) keeps exporting and importing; the watch's error is its status until it watches.
     */
    private void startPodsInformer() {
        executor.checkInContext();
        pods = client.pods().inAnyNamespace().runnableInformer(0);
        pods.itemStore(new ReducedStateItemStore<>(ReducedStateItemStore.NAME_KEY_STATE, Pod.class,
                client.getKubernetesSerialization(), POD_FIELDS));
        pods.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod o) {
                executor.executeIfRunning(ClusterConnector.this::podsChanged);
            }

            @Override
            public void onUpdate(Pod old, Pod o) {
                executor.executeIfRunning(ClusterConnector.this::podsChanged);
            }

            @Override
            public void onDelete(Pod o, boolean unknownFinalState) {
                executor.executeIfRunning(ClusterConnector.this::podsChanged);
            }
        });
        pods.exceptionHandler((started, t) -> {
            String error = podsWatchError(t);
            if (!error.equals(podsError)) {
                LOG.warn("cluster {}: {}", record.name(), error);
            }
            podsError = error;
            metrics.cluster(record.name(), "pods_watch_error");
            return true; // keep trying: a second `cluster join` grants the verbs without a controller restart
        });
        pods.start();
    }

    /** Why the Pods watch fails, as the status says it. */
    private String podsWatchError(Throwable thrown) {
        Throwable t = thrown;
        while ((t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof KubernetesClientException k && k.getCode() == 403) {
            return "pod attestation is off: the connector may not list and watch pods (" + message(t) + "); run"
                    + " 'meshfed cluster join " + record.name() + " --network " + record.network() + "' again to"
                    + " grant it pods: list, watch";
        }
        return "pod attestation is off until the Pods watch works: " + message(t);
    }

    private void podsChanged() {
        executor.checkInContext();
        podsDirty = true;
        requestPodSync();
    }

    /** One pod sync after the usual delay, unless one is already pending (it will see this change too). */
    private void requestPodSync() {
        executor.checkInContext();
        if (closed || pods == null || (pendingPodSync != null && pendingPodSync.isPending())) {
            return;
        }
        pendingPodSync = executor.schedule(this::syncPods, SYNC_DELAY);
    }

    /** Every health check: a Pods watch that stopped for longer than a reconnect withdraws the pod identities. */
    private void checkPodsWatching() {
        executor.checkInContext();
        if (pods == null) {
            return;
        }
        if (pods.isWatching()) {
            if (podsGap != null) {
                podsGap.cancel();
                podsGap = null;
            }
            if (!podsError.isEmpty()) {
                LOG.info("cluster {}: the Pods watch works; attesting its pods", record.name());
                podsError = "";
            }
            if (podsDirty) {
                requestPodSync();
            }
        } else if (podsGap == null && !Map.of().equals(appliedPods)) {
            podsGap = executor.schedule(() -> {
                podsGap = null;
                if (!closed && pods != null && !pods.isWatching()) {
                    withdrawPods("the Pods watch stopped");
                }
            }, WATCH_GAP);
        }
    }

    /** Writes the pods the cluster's gateways may attest now, from a watching cache only. */
    private void syncPods() {
        executor.checkInContext();
        pendingPodSync = null;
        if (closed || pods == null || !pods.isWatching()) {
            return; // the cache may be behind; checkPodsWatching asks again once it watches
        }
        podsDirty = false;
        try {
            Optional<MemberRecord> member = Records.get(store, Kind.MEMBER, record.name(), MemberRecord.class);
            if (member.isEmpty()) {
                return; // the member is gone: nothing of it may be attested
            }
            AttestablePods.Result result = AttestablePods.compute(pods.getStore().list(),
                    io.meshfed.trust.TrustDomain.parse(record.trustDomain()), MemberAddresses.of(member.get()),
                    maxPods);
            if (!writePods(result.pods())) {
                return;
            }
            String problem = result.problem();
            if (!problem.equals(podsStatus) && !problem.isEmpty()) {
                LOG.warn("cluster {}: {}", record.name(), problem);
            }
            podsStatus = problem;
            attestedPods = result.pods().size();
        } catch (RuntimeException e) {
            podsDirty = true;
            metrics.cluster(record.name(), "sync_error");
            LOG.error("cluster {}: pod sync failed, retrying in 1 s", record.name(), e);
            executor.schedule(this::requestPodSync, Duration.ofSeconds(1));
        }
    }

    /** No pod of this cluster is attested until the Pods watch is back. */
    private void withdrawPods(String why) {
        executor.checkInContext();
        if (Map.of().equals(appliedPods)) {
            return;
        }
        if (writePods(List.of())) {
            LOG.warn("cluster {}: {}; its pods are not attested until it watches again", record.name(), why);
        }
        attestedPods = 0;
        podsDirty = true;
    }

    /**
     * Stores {@code wanted} as the member's shards, writing only the shards that differ from what is stored.
     * Returns false when this connector is no longer current (nothing written).
     */
    private boolean writePods(List<PodIdentitiesRecord.Pod> wanted) {
        Map<Integer, List<PodIdentitiesRecord.Pod>> shards = new java.util.TreeMap<>();
        for (PodIdentitiesRecord.Pod p : wanted) {
            shards.computeIfAbsent(PodIdentitiesRecord.shardOf(p.address()), k -> new ArrayList<>()).add(p);
        }
        shards.replaceAll((k, v) -> List.copyOf(v));
        boolean current = store.transact(tx -> {
            if (!stillCurrent(tx)) {
                return false;
            }
            Map<Integer, List<PodIdentitiesRecord.Pod>> stored = appliedPods != null ? appliedPods : storedPods(tx);
            for (int shard = 0; shard < PodIdentitiesRecord.SHARDS; shard++) {
                List<PodIdentitiesRecord.Pod> want = shards.getOrDefault(shard, List.of());
                if (want.equals(stored.getOrDefault(shard, List.of()))) {
                    continue;
                }
                String key = PodIdentitiesRecord.key(record.name(), shard);
                if (want.isEmpty()) {
                    tx.delete(Kind.POD_IDENTITIES.storeName(), key, StoreTransaction.ANY);
                } else {
                    Records.put(tx, Kind.POD_IDENTITIES, key, new PodIdentitiesRecord(record.name(), shard, want),
                            StoreTransaction.ANY);
                }
            }
            return true;
        });
        if (current) {
            appliedPods = Map.copyOf(shards);
        }
        return current;
    }

    private Map<Integer, List<PodIdentitiesRecord.Pod>> storedPods(io.meshfed.controller.store.StoreReader tx) {
        Map<Integer, List<PodIdentitiesRecord.Pod>> stored = new HashMap<>();
        for (PodIdentitiesRecord r : Records.list(tx, Kind.POD_IDENTITIES, PodIdentitiesRecord.class)) {
            if (r.member().equals(record.name())) {
                stored.put(r.shard(), r.pods());
            }
        }
        return stored;
    }

    private void stopInformers() {
        executor.checkInContext();
        for (SharedIndexInformer<?> i : new ArrayList<>(java.util.Arrays.asList(services, slices, exports, imports,
                pods))) {
            if (i != null) {
                i.close();
            }
        }
        services = null;
        slices = null;
        exports = null;
        imports = null;
        pods = null;
        if (pendingPodSync != null) {
            pendingPodSync.cancel();
            pendingPodSync = null;
        }
        if (podsGap != null) {
            podsGap.cancel();
            podsGap = null;
        }
        if (healthCheck != null) {
            healthCheck.cancel();
        }
        if (watchGap != null) {
            watchGap.cancel();
            watchGap = null;
        }
        if (client != null) {
            client.close();
            client = null;
        }
    }

    /** The cluster left: its per-cluster gauges go (what it created in the cluster, leave removes). */
    @Override
    public void removed() {
        metrics.forgetCluster(record.name());
    }

    /** Stops watching. The cluster's endpoints stay in the store (a restart or a rotation picks them up). */
    @Override
    public void close() {
        try {
            executor.submit(() -> {
                closed = true;
                if (withdrawal != null) {
                    withdrawal.cancel();
                }
                pendingSync.cancel();
                stopInformers();
                return null;
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("cluster {}: close: {}", record.name(), e.toString());
        }
    }

    static String message(Throwable t) {
        if (t instanceof KubernetesClientException k && k.getCode() == 403) {
            return "forbidden: " + (k.getStatus() != null ? k.getStatus().getMessage() : k.getMessage());
        }
        if (t instanceof KubernetesClientException k && k.getCode() == 401) {
            return "unauthorized: the connector's credentials were refused (rotate them with meshfed cluster"
                    + " rotate-credentials)";
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return root == t ? m : t.getClass().getSimpleName() + ": " + m;
    }
}
