package io.meshfed.controller.connector.consul;

import com.google.protobuf.Timestamp;
import io.meshfed.api.HostPort;
import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.ConsulState;
import io.meshfed.controller.catalog.CatalogView;
import io.meshfed.controller.catalog.MemberAddresses;
import io.meshfed.controller.catalog.MemberExports;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.catalog.SnapshotBuilder;
import io.meshfed.controller.connector.ConnectorState;
import io.meshfed.controller.connector.Debounced;
import io.meshfed.controller.connector.MemberConnectors;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.ConsulRecord;
import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.MemberType;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.controller.store.StoreTransaction;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects one Consul datacenter to the federation, on its own serial executor. Reads: a {@link ConsulCatalogWatch}
 * follows the datacenter's exported services, and each answer becomes the member's workload set through
 * {@link MemberExports} (the services carrying the export tag are offered by the member itself; those named by an
 * admin's export policy are covered by that policy), keeping only addresses the member's CIDRs allow. Writes: the
 * federated services the member imports are published back by an {@link ImportPublisher}. An agent that cannot be
 * reached makes the connector {@code stale}: the datacenter's instances stay as last read for the grace period, then
 * are marked unhealthy ({@code withdrawn}) until the agent answers again.
 */
final class ConsulConnector implements MemberConnectors.Connector {
    private static final Logger LOG = LoggerFactory.getLogger(ConsulConnector.class);
    private static final Duration CATALOG_DELAY = Duration.ofMillis(500);
    private static final Duration PUBLISH_RETRY = Duration.ofSeconds(2);
    /** How often what is published is compared with what Consul holds (a registration lost there comes back). */
    static final Duration PUBLISH_REFRESH = Duration.ofSeconds(15);
    /** At most this many instances of one datacenter are written; the rest are left out and reported. */
    static final int MAX_INSTANCES = 20_000;
    /** Consul's default {@code limits.http_max_conns_per_client}; each watched service holds one connection. */
    static final int CONSUL_DEFAULT_CONNECTIONS = 200;
    private static final String TYPE = MemberType.CONSUL.name();

    private final ConsulRecord record;
    private final String token;
    private final Store store;
    private final TrustState trust;
    private final ControllerMetrics metrics;
    private final Clock clock;
    private final Duration staleGrace;
    private final Duration wait;
    private final MemberExports memberExports;
    private final SerialExecutor executor;

    // Touched on the executor only, but for status() (volatile reads).
    private ConsulConnection connection;
    private ConsulCatalogWatch watch;
    private ImportPublisher publisher;
    private volatile ConnectorState state = ConnectorState.CONNECTING;
    private volatile Instant lastSync;
    private volatile String lastError = "";
    private volatile String publishError = "";
    private volatile int exportedServices;
    private volatile int importedServices;
    private ConsulCatalogWatch.Answer latest; // the watch's last answer; null until its first
    private volatile CatalogView latestView;
    private List<PublishedImports.Registration> appliedImports;
    private final Debounced pendingPublish;
    private SerialExecutor.Scheduled withdrawal;
    private SerialExecutor.Scheduled publishRefresh;
    /** The names admins' export policies give, as of the latest catalog view; the watch reads it. */
    private volatile Set<String> policyNames = Set.of();
    private volatile String capacityNote = "";
    private boolean closed;

    ConsulConnector(ConsulRecord record, String token, Store store, TrustState trust, ControllerMetrics metrics,
            Clock clock, Duration staleGrace, Duration wait, PortAllocations ports, SerialExecutor executor) {
        this.record = record;
        this.token = token;
        this.store = store;
        this.trust = trust;
        this.metrics = metrics;
        this.clock = clock;
        this.staleGrace = staleGrace;
        this.wait = wait;
        this.memberExports = new MemberExports(ports);
        this.executor = executor;
        this.pendingPublish = new Debounced(executor, this::publish);
    }

    @Override
    public long generation() {
        return record.generation();
    }

    @Override
    public void start() {
        metrics.memberConnected(record.name(), TYPE, () -> state == ConnectorState.SYNCED ? 1 : 0);
        executor.execute(this::connect);
    }

    private void connect() {
        executor.checkInContext();
        if (closed) {
            return;
        }
        connection = ConsulConnection.open(URI.create(record.address()), record.caPem(), wait);
        publisher = new ImportPublisher(connection.client(), token, record.datacenter(), record.network(),
                record.name());
        policyNames = namedByPolicy(Records.list(store, Kind.EXPORT, ExportRecord.class));
        watch = new ConsulCatalogWatch(record.name(), connection.client(), token, record.datacenter(),
                NamespaceFrom.parse(record.namespaceFrom()), () -> policyNames, wait,
                new ConsulCatalogWatch.Listener() {
                    @Override
                    public void changed(ConsulCatalogWatch.Answer answer) {
                        executor.executeIfRunning(() -> read(answer));
                    }

                    @Override
                    public void error(String reason) {
                        executor.executeIfRunning(() -> failed(reason));
                    }
                });
        watch.start();
        publishRefresh = executor.repeat(() -> {
            if (publisher != null) {
                publisher.forget();
                appliedImports = null;
                // From the store itself, not only the config streams' latest view: a view this connector missed
                // must not keep an ended import registered.
                latestView = null;
                requestPublish(Duration.ZERO);
            }
        }, PUBLISH_REFRESH, PUBLISH_REFRESH);
        requestPublish(Duration.ZERO);
    }

    /** Consul service names that an admin's export policy names (they are imported without the tag). */
    private static Set<String> namedByPolicy(java.util.Collection<ExportRecord> exports) {
        return exports.stream().filter(e -> e.offeredBy() == null).map(ExportRecord::service)
                .collect(Collectors.toUnmodifiableSet());
    }

    /**
     * The catalog, the bundles or the gateways changed: what this datacenter imports may have too, and so may the
     * names the admin's export policies give (the watch then selects again, without waiting for Consul's catalog).
     */
    @Override
    public void catalogChanged(CatalogView view) {
        latestView = view;
        executor.executeIfRunning(() -> {
            Set<String> names = namedByPolicy(view.exports()); // the view read them: no store read here
            if (!names.equals(policyNames) && watch != null) {
                policyNames = names;
                watch.refresh();
            }
            requestPublish(CATALOG_DELAY);
        });
    }

    private void read(ConsulCatalogWatch.Answer answer) {
        executor.checkInContext();
        latest = answer;
        sync();
    }

    /**
     * Writes the last answer as the member's workload set and offers, if it is settled (before, a starting watch
     * would withdraw the services it has not read yet); the member is synced after a synced answer. The watch
     * sends another answer when it settles or syncs, even with the same workloads, and after an outage it sends
     * one when it reads again: the member comes back then, whether or not its catalog changed.
     */
    private void sync() {
        executor.checkInContext();
        if (closed || latest == null || !latest.settled()) {
            return;
        }
        if (state.unreachable() && !latest.synced()) {
            return; // an agent that went away is back once every service reads again; till then what is stored stays
        }
        ConsulCatalogWatch.Answer answer = latest;
        try {
            List<WorkloadSetRecord.Workload> read = answer.workloads();
            String over = "";
            if (read.size() > MAX_INSTANCES) {
                over = read.size() + " instances, more than the " + MAX_INSTANCES + " one datacenter may have; the"
                        + " rest are left out";
                LOG.warn("consul member {}: {}", record.name(), over);
                read = read.subList(0, MAX_INSTANCES);
            }
            WorkloadSetRecord next = new WorkloadSetRecord(ConsulRecord.workloadSetKey(record.name()), record.name(),
                    record.network(), dialable(read));
            Map<String, TreeSet<Integer>> ports = new TreeMap<>();
            for (WorkloadSetRecord.Workload w : next.workloads()) {
                ports.computeIfAbsent(w.namespace() + "/" + w.service(), k -> new TreeSet<>()).add(w.port());
            }
            List<MemberExports.Offer> offers = next.workloads().stream()
                    .filter(w -> answer.tagged().contains(w.service()))
                    .map(w -> w.namespace() + "/" + w.service()).distinct()
                    .map(k -> new MemberExports.Offer(k.substring(k.indexOf('/') + 1), k.substring(0, k.indexOf('/')),
                            List.copyOf(ports.get(k)))).toList();
            Optional<MemberExports.Outcome> written = store.transact(tx -> stillCurrent(tx)
                    ? Optional.of(memberExports.write(tx, next, offers))
                    : Optional.<MemberExports.Outcome>empty());
            if (written.isEmpty()) {
                return; // left or replaced meanwhile: no more writes
            }
            written.get().conflicts().forEach((service, conflict) ->
                    LOG.warn("consul member {}: {}: {}", record.name(), service, conflict));
            exportedServices = ports.size();
            capacityNote = over.isEmpty() && ports.size() + 1 < CONSUL_DEFAULT_CONNECTIONS ? over
                    : over.isEmpty() ? ports.size() + " services are watched with " + (ports.size() + 1)
                            + " connections to the agent; Consul's default limits.http_max_conns_per_client is "
                            + CONSUL_DEFAULT_CONNECTIONS + ": raise it for this controller's address" : over;
            if (withdrawal != null) {
                withdrawal.cancel();
                withdrawal = null;
            }
            boolean whole = answer.synced();
            // A first read in which a service failed is written (what could be read), but the member is not
            // synced until that service has been read too: status says why meanwhile.
            if (whole || state == ConnectorState.SYNCED) {
                if (state.unreachable()) {
                    LOG.info("consul member {}: agent reachable again; resynced", record.name());
                } else if (state != ConnectorState.SYNCED) {
                    LOG.info("consul member {}: synced ({} services)", record.name(), exportedServices);
                }
                state = ConnectorState.SYNCED;
            }
            lastSync = clock.instant();
            if (whole) {
                lastError = ""; // else a service's read failed: its error stays shown
            }
            metrics.member(record.name(), TYPE, "resync");
        } catch (RuntimeException e) {
            lastError = "writing the catalog failed: " + e.getMessage();
            metrics.member(record.name(), TYPE, "sync_error");
            LOG.error("consul member {}: sync failed, retrying in 1 s", record.name(), e);
            executor.schedule(this::sync, Duration.ofSeconds(1));
        }
    }

    private List<WorkloadSetRecord.Workload> dialable(List<WorkloadSetRecord.Workload> workloads) {
        MemberAddresses rule = Records.get(store, Kind.MEMBER, record.name(), MemberRecord.class)
                .map(MemberAddresses::of).orElse(null);
        if (rule == null) {
            return List.of(); // the member is gone: nothing of it may be dialled
        }
        MemberAddresses.Dialable d = rule.dialable(workloads);
        for (int i = 0; i < d.refused(); i++) {
            metrics.member(record.name(), TYPE, "endpoint_refused");
        }
        if (d.refused() > 0) {
            LOG.warn("consul member {}: {} instance(s) left out (first: {})", record.name(), d.refused(),
                    d.firstRefusal());
        }
        return d.kept();
    }

    private void failed(String reason) {
        executor.checkInContext();
        lastError = reason;
        metrics.member(record.name(), TYPE, "watch_error");
        if (reason.contains(ConsulCatalogWatch.UNREACHABLE) || reason.startsWith(ConsulCatalogWatch.CATALOG)) {
            becameUnreachable(); // the catalog or the agent itself cannot be read; one service's failure is not that
        }
    }

    /**
     * Services stay for the grace period, then are withdrawn. A connector that has not synced yet counts as synced
     * when the store holds what an earlier one wrote (a restart, a replacement with the agent down).
     */
    private void becameUnreachable() {
        boolean stored = state == ConnectorState.CONNECTING && Records.get(store, Kind.WORKLOADS,
                ConsulRecord.workloadSetKey(record.name()), WorkloadSetRecord.class).isPresent();
        if (state != ConnectorState.SYNCED && !stored) {
            return;
        }
        state = ConnectorState.STALE;
        metrics.member(record.name(), TYPE, "stale");
        LOG.warn("consul member {}: agent unreachable; its services stay for {} ({})", record.name(), staleGrace,
                lastError);
        withdrawal = executor.schedule(this::withdraw, staleGrace);
    }

    private void withdraw() {
        executor.checkInContext();
        withdrawal = null;
        if (state != ConnectorState.STALE) {
            return;
        }
        String key = ConsulRecord.workloadSetKey(record.name());
        store.transact(tx -> {
            if (stillCurrent(tx)) {
                Records.get(tx, Kind.WORKLOADS, key, WorkloadSetRecord.class).ifPresent(set ->
                        Records.put(tx, Kind.WORKLOADS, key, set.allUnhealthy(), StoreTransaction.ANY));
            }
            return null;
        });
        state = ConnectorState.WITHDRAWN;
        metrics.member(record.name(), TYPE, "withdrawn");
        LOG.warn("consul member {}: unreachable for {}; its services are withdrawn until it is back", record.name(),
                staleGrace);
    }

    private void requestPublish(Duration delay) {
        executor.checkInContext();
        if (closed || publisher == null) {
            return;
        }
        pendingPublish.request(delay);
    }

    /** Makes the datacenter's registrations of this member's imports follow the catalog. */
    private void publish() {
        executor.checkInContext();
        if (closed) {
            return;
        }
        CatalogView view = latestView != null ? latestView : CatalogView.load(store, trust);
        ConfigSnapshot snapshot = SnapshotBuilder.build(view, record.name(), record.network());
        String gateway = view.gatewayAddress(record.network());
        String host = gateway.isEmpty() ? "" : HostPort.parse(gateway).getHostString();
        PublishedImports.Desired wanted = PublishedImports.desired(snapshot, host, record.name());
        List<PublishedImports.Registration> desired = wanted.registrations();
        if (desired.equals(appliedImports)) {
            return;
        }
        try {
            ImportPublisher.Outcome outcome = publisher.apply(desired, host);
            List<String> problems = new java.util.ArrayList<>();
            if (host.isEmpty() && !snapshot.getOutboundList().isEmpty()) {
                problems.add("network " + record.network() + " has no gateway address: imports are not published");
            }
            wanted.collisions().forEach((name, services) -> problems.add("imports " + String.join(" and ",
                    services) + " would share the Consul name '" + name + "': neither is published"));
            outcome.refused().forEach((name, why) -> problems.add(why));
            // What was refused is tried again on the next change or refresh; the rest counts as applied.
            appliedImports = problems.isEmpty() ? desired : null;
            importedServices = (int) desired.stream().map(PublishedImports.Registration::name)
                    .filter(n -> !outcome.refused().containsKey(n)).distinct().count();
            String now = String.join("; ", problems);
            if (!now.isEmpty() && !now.equals(publishError)) {
                LOG.warn("consul member {}: {}", record.name(), now);
            }
            publishError = now;
            if (outcome.changes() > 0) {
                metrics.member(record.name(), TYPE, "imports_published");
                LOG.info("consul member {}: {} registration change(s) on node {}", record.name(), outcome.changes(),
                        publisher.node());
            }
            if (!outcome.refused().isEmpty()) {
                metrics.member(record.name(), TYPE, "publish_error");
            }
        } catch (RuntimeException e) {
            publishError = "publishing imports on node " + publisher.node() + ": "
                    + ConsulCatalogWatch.reason(e);
            metrics.member(record.name(), TYPE, "publish_error");
            LOG.warn("consul member {}: {}; retrying", record.name(), publishError);
            executor.schedule(() -> requestPublish(Duration.ZERO), PUBLISH_RETRY);
        }
    }

    private boolean stillCurrent(StoreReader tx) {
        return Records.get(tx, Kind.CONSUL, record.name(), ConsulRecord.class)
                .filter(c -> c.generation() == record.generation()).isPresent();
    }

    ConsulState status() {
        String errors = List.of(lastError, publishError, capacityNote).stream().filter(e -> !e.isEmpty())
                .collect(Collectors.joining("; "));
        ConsulState.Builder b = ConsulState.newBuilder().setName(record.name()).setNetwork(record.network())
                .setTrustDomain(record.trustDomain()).setAddress(record.address())
                .setDatacenter(record.datacenter()).setState(state.label()).setLastError(errors)
                .setExportedServices(exportedServices).setImportedServices(importedServices)
                .setGeneration(record.generation());
        Instant t = lastSync;
        if (t != null) {
            b.setLastSync(Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()));
        }
        return b.build();
    }

    /** The member left: what it published in Consul goes (best effort: an unreachable agent keeps it). */
    @Override
    public void removed() {
        try {
            executor.submit(() -> {
                closed = true; // no publish scheduled before may register again after the removal
                pendingPublish.cancel();
                if (publisher != null) {
                    try {
                        publisher.removeAll();
                    } catch (RuntimeException e) {
                        LOG.warn("consul member {}: could not remove its registrations on node {}: {}",
                                record.name(), publisher.node(), ConsulCatalogWatch.reason(e));
                    }
                }
                return null;
            }).get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("consul member {}: removing its registrations: {}", record.name(), e.toString());
        }
    }

    /** Stops watching. The datacenter's instances stay in the store (a restart picks them up). */
    @Override
    public void close() {
        try {
            executor.submit(() -> {
                closed = true;
                pendingPublish.cancel();
                for (SerialExecutor.Scheduled s : new SerialExecutor.Scheduled[] {withdrawal, publishRefresh}) {
                    if (s != null) {
                        s.cancel();
                    }
                }
                if (watch != null) {
                    watch.close();
                }
                if (connection != null) {
                    connection.close();
                }
                return null;
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("consul member {}: close: {}", record.name(), e.toString());
        }
    }
}
