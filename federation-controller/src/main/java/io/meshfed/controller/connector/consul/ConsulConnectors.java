package io.meshfed.controller.connector.consul;

import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.api.v1.ConsulState;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.ConsulRecord;
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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link ConsulConnector} per registered Consul member, each on its own serial executor; starting, replacing and
 * stopping them runs on one more ({@code consul-connectors}). Follows the store: a new member starts a connector,
 * new settings (a higher generation) replace it (the new one starts before the old one stops), a removed member's
 * connector removes what it published in Consul and stops. Each catalog view the config streams refresh to is
 * handed to every connector, so what they publish follows the imports.
 */
public final class ConsulConnectors implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsulConnectors.class);
    /** How long a blocking query waits at the agent: Consul's own default. */
    public static final Duration DEFAULT_WAIT = Duration.ofMinutes(5);

    private final Store store;
    private final FederationIdentity identity;
    private final TrustState trust;
    private final ConfigStreamService streams;
    private final ControllerMetrics metrics;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private final Duration staleGrace;
    private final Duration wait;
    private final PortAllocations ports;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final SerialExecutor control;
    private Store.Watch watch;

    private record Running(ConsulConnector connector, SerialExecutor executor) {}

    /** @param wait how long one blocking query may wait at the agent */
    public ConsulConnectors(Store store, FederationIdentity identity, TrustState trust, ConfigStreamService streams,
            ControllerMetrics metrics, Clock clock, ScheduledExecutorService timer, Duration staleGrace,
            Duration wait, PortAllocations ports) {
        this.store = store;
        this.identity = identity;
        this.trust = trust;
        this.streams = streams;
        this.metrics = metrics;
        this.clock = clock;
        this.timer = timer;
        this.staleGrace = staleGrace;
        this.wait = wait;
        this.ports = ports;
        this.control = SerialExecutor.start("consul-connectors", timer);
    }

    PortAllocations ports() {
        return ports;
    }

    Duration waitTime() {
        return wait;
    }

    public void start() {
        long revision = store.revision();
        for (ConsulRecord c : Records.list(store, Kind.CONSUL, ConsulRecord.class)) {
            control.execute(() -> reconcile(c.name()));
        }
        watch = store.watch(revision, change -> {
            if (change.kind().equals(Kind.CONSUL.storeName())) {
                control.executeIfRunning(() -> reconcile(change.name()));
            }
        });
        streams.onViewRefreshed(view -> running.values().forEach(r -> r.connector().catalogChanged(view)));
    }

    private void reconcile(String name) {
        control.checkInContext();
        Optional<ConsulRecord> record = Records.get(store, Kind.CONSUL, name, ConsulRecord.class);
        Running current = running.get(name);
        if (current != null && record.isPresent() && current.connector().generation() == record.get().generation()) {
            return;
        }
        if (record.isPresent()) {
            ConsulRecord c = record.get();
            String token;
            try {
                token = c.sealedToken().isEmpty() ? "" : identity.secrets().open(c.sealedToken(),
                        ConsulRecord.purpose(name));
            } catch (RuntimeException e) {
                LOG.error("consul member {}: cannot open its stored token: {}", name, e.getMessage());
                return;
            }
            SerialExecutor executor = SerialExecutor.start("consul-" + name, timer);
            ConsulConnector connector = new ConsulConnector(c, token, store, trust, metrics, clock, staleGrace, wait,
                    ports, executor);
            running.put(name, new Running(connector, executor));
            connector.start();
            LOG.info("consul member {}: connector started ({} datacenter {}, generation {})", name, c.address(),
                    c.datacenter(), c.generation());
        } else {
            running.remove(name);
            metrics.forgetMember(name);
            if (current != null) {
                current.connector().removePublished();
            }
        }
        if (current != null) {
            stop(current);
        }
    }

    private static void stop(Running r) {
        r.connector().close();
        r.executor().shutdownNow();
    }

    /** Each member's state, sorted by name; a registered member without a connector yet is connecting. */
    public List<ConsulState> status() {
        List<ConsulState> states = new ArrayList<>();
        for (ConsulRecord c : Records.list(store, Kind.CONSUL, ConsulRecord.class)) {
            Running r = running.get(c.name());
            states.add(r != null && r.connector().generation() == c.generation() ? r.connector().status()
                    : ConsulState.newBuilder().setName(c.name()).setNetwork(c.network())
                            .setTrustDomain(c.trustDomain()).setAddress(c.address()).setDatacenter(c.datacenter())
                            .setState("connecting").setGeneration(c.generation()).build());
        }
        states.sort(Comparator.comparing(ConsulState::getName));
        return states;
    }

    Optional<ConsulState> status(String name) {
        return status().stream().filter(s -> s.getName().equals(name)).findFirst();
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
        control.shutdown(Duration.ofSeconds(10));
        running.values().forEach(ConsulConnectors::stop);
        running.clear();
    }
}
