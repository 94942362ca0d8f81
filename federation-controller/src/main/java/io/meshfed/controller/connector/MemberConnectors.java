package io.meshfed.controller.connector;

import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.controller.catalog.CatalogView;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.stream.ConfigStreamService;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime every member kind's connectors share: one connector per stored connection record of the kind, each
 * on its own serial executor ({@code <label>-<name>}), and one more ({@code <label>-connectors}) that starts,
 * replaces and stops them as the records change. A new record starts a connector; a record with a higher
 * generation (new credentials or settings) replaces it, the new one starting before the old one stops, so the
 * member is never unwatched; a removed record's connector is told ({@link Connector#removed()}), then stopped.
 * Each catalog view the config streams refresh to is handed to every connector. What differs per kind is the
 * {@link Factory} and the connector itself.
 *
 * @param <R> the kind's connection record
 * @param <C> the kind's connector
 */
public final class MemberConnectors<R, C extends MemberConnectors.Connector> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MemberConnectors.class);

    /** One member's connector, driven on its own executor. */
    public interface Connector extends AutoCloseable {
        /** The generation of the record it was made from. */
        long generation();

        /** Starts reading and writing the member. */
        void start();

        /** The catalog, the bundles or the gateways changed: what the member imports may have too. */
        void catalogChanged(CatalogView view);

        /** The member left: undo in it what the connector made there (before {@link #close()}). */
        default void removed() {
        }

        /** Stops, leaving what it wrote in the store (a restart or a replacement picks it up). */
        @Override
        void close();
    }

    /** Makes a record's connector on its executor; a failure (credentials that do not open) is logged, not started. */
    public interface Factory<R, C> {
        C create(R record, SerialExecutor executor);
    }

    private record Running<C>(C connector, SerialExecutor executor) {}

    private final String label;
    private final Kind kind;
    private final Class<R> type;
    private final Function<R, String> name;
    private final ToLongFunction<R> generation;
    private final Store store;
    private final ScheduledExecutorService timer;
    private final ConfigStreamService streams;
    private final ControllerMetrics metrics;
    private final Factory<R, C> factory;
    private final Function<C, com.google.protobuf.MessageOrBuilder> status;
    /** What was published last, on {@code control} only. */
    private Map<String, String> published = Map.of();
    /** How often the leader publishes its connectors' states for the other replicas (when they changed). */
    static final Duration PUBLISH_EVERY = Duration.ofSeconds(2);
    /** Changed on {@code control} only; read anywhere (status, catalog views). */
    private final Map<String, Running<C>> running = new ConcurrentHashMap<>();
    private final SerialExecutor control;
    private Store.Watch watch;
    private boolean listening;

    /** @param label names the executors and log lines ({@code cluster}, {@code consul}) */
    public MemberConnectors(String label, Kind kind, Class<R> type, Function<R, String> name,
            ToLongFunction<R> generation, Store store, ScheduledExecutorService timer, ConfigStreamService streams,
            ControllerMetrics metrics, Factory<R, C> factory, Function<C, com.google.protobuf.MessageOrBuilder> status) {
        this.status = status;
        this.label = label;
        this.kind = kind;
        this.type = type;
        this.name = name;
        this.generation = generation;
        this.store = store;
        this.timer = timer;
        this.streams = streams;
        this.metrics = metrics;
        this.factory = factory;
        this.control = SerialExecutor.start(label + "-connectors", timer);
    }

    /** Starts a connector per record and follows the records' changes (again after {@link #stopAll}). */
    public synchronized void start() {
        if (watch != null) {
            return;
        }
        long revision = store.revision();
        for (R r : Records.list(store, kind, type)) {
            String n = name.apply(r);
            control.execute(() -> reconcile(n));
        }
        watch = store.watch(revision, change -> {
            if (change.kind().equals(kind.storeName())) {
                control.executeIfRunning(() -> reconcile(change.name()));
            }
        });
        if (!store.exclusive()) { // on a store only this process holds, no other replica would read them
            control.execute(this::publishLater);
        }
        if (!listening) {
            listening = true;
            streams.onViewRefreshed(view -> running.values().forEach(r -> r.connector().catalogChanged(view)));
        }
    }

    /**
     * Stops following the records and stops every connector, leaving what they wrote in the store: this replica is
     * no longer the leader. {@link #start} starts them again.
     */
    public synchronized void stopAll() {
        if (watch == null) {
            return;
        }
        watch.close();
        watch = null;
        try {
            control.submit(() -> {
                running.values().forEach(MemberConnectors::stop);
                running.clear();
                return null;
            }).get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("{} connectors did not all stop: {}", label, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** While started: every {@link #PUBLISH_EVERY}, the connectors' states into the store when they changed. */
    private void publishLater() {
        control.schedule(() -> {
            if (watch == null) {
                return; // stopped: the next start publishes again
            }
            Map<String, String> now = new java.util.TreeMap<>();
            running.forEach((member, r) -> {
                try {
                    now.put(member, com.google.protobuf.util.JsonFormat.printer().omittingInsignificantWhitespace()
                            .print(status.apply(r.connector())));
                } catch (com.google.protobuf.InvalidProtocolBufferException | RuntimeException e) {
                    LOG.debug("{} {}: state not published: {}", label, member, e.toString());
                }
            });
            if (!now.equals(published)) {
                try {
                    store.transact(tx -> Records.put(tx, Kind.CONNECTOR_STATUS, label,
                            new io.meshfed.controller.model.ConnectorStatusRecord(now, System.currentTimeMillis()),
                            io.meshfed.controller.store.StoreTransaction.ANY));
                    published = now;
                } catch (RuntimeException e) {
                    LOG.warn("{} connectors: cannot publish their states: {}", label, e.toString());
                }
            }
            publishLater();
        }, PUBLISH_EVERY);
    }

    /**
     * The members' connector states as the leader published them, read from the store once and each parsed into a
     * builder from {@code builders}: what a replica that does not run them shows. One that does not parse is left out.
     */
    public <B extends com.google.protobuf.Message.Builder> Map<String, B> published(
            java.util.function.Supplier<B> builders) {
        Map<String, B> states = new java.util.HashMap<>();
        Records.get(store, Kind.CONNECTOR_STATUS, label, io.meshfed.controller.model.ConnectorStatusRecord.class)
                .ifPresent(r -> r.states().forEach((member, json) -> {
                    B b = builders.get();
                    try {
                        com.google.protobuf.util.JsonFormat.parser().ignoringUnknownFields().merge(json, b);
                        states.put(member, b);
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        LOG.debug("{} {}: published state does not parse: {}", label, member, e.toString());
                    }
                }));
        return states;
    }

    private void reconcile(String member) {
        control.checkInContext();
        Optional<R> record = Records.get(store, kind, member, type);
        Running<C> current = running.get(member);
        if (current != null && record.isPresent()
                && current.connector().generation() == generation.applyAsLong(record.get())) {
            return;
        }
        if (record.isPresent()) {
            SerialExecutor executor = SerialExecutor.start(label + "-" + member, timer);
            C connector;
            try {
                connector = factory.create(record.get(), executor);
            } catch (RuntimeException e) {
                executor.shutdownNow();
                LOG.error("{} {}: no connector: {}", label, member, e.getMessage());
                return;
            }
            running.put(member, new Running<>(connector, executor));
            connector.start();
            LOG.info("{} {}: connector started (generation {})", label, member,
                    generation.applyAsLong(record.get()));
        } else {
            running.remove(member);
            metrics.forgetMember(member);
            if (current != null) {
                current.connector().removed();
            }
        }
        if (current != null) {
            stop(current);
        }
    }

    private static <C extends Connector> void stop(Running<C> r) {
        r.connector().close();
        r.executor().shutdownNow(); // close() ran its last task on it
    }

    /** The member's running connector (of the latest generation that could start), if there is one. */
    public Optional<C> running(String member) {
        return Optional.ofNullable(running.get(member)).map(Running::connector);
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
        control.shutdown(Duration.ofSeconds(10));
        running.values().forEach(MemberConnectors::stop);
        running.clear();
    }
}
