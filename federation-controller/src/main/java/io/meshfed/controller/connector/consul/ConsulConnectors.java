package io.meshfed.controller.connector.consul;

import io.meshfed.api.v1.ConsulState;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.connector.MemberConnectors;
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
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The Consul members' connectors: one {@link ConsulConnector} per registered datacenter, run by the shared
 * {@link MemberConnectors} runtime (new settings replace the connector; a member that left has what its connector
 * published in Consul removed, then its connector stops), each made with the member's token opened from its
 * sealed form.
 */
public final class ConsulConnectors implements AutoCloseable, io.meshfed.controller.leader.LeaderOnly {
    /** How long a blocking query waits at the agent: Consul's own default. */
    public static final Duration DEFAULT_WAIT = Duration.ofMinutes(5);

    private final Store store;
    private final PortAllocations ports;
    private final MemberConnectors<ConsulRecord, ConsulConnector> connectors;

    /** @param wait how long one blocking query may wait at the agent */
    public ConsulConnectors(Store store, FederationIdentity identity, TrustState trust, ConfigStreamService streams,
            ControllerMetrics metrics, Clock clock, ScheduledExecutorService timer, Duration staleGrace,
            Duration wait, PortAllocations ports) {
        this.store = store;
        this.ports = ports;
        this.connectors = new MemberConnectors<>("consul", Kind.CONSUL, ConsulRecord.class, ConsulRecord::name,
                ConsulRecord::generation, store, timer, streams, metrics, (c, executor) -> {
                    String token;
                    try {
                        token = c.sealedToken().isEmpty() ? "" : identity.secrets().open(c.sealedToken(),
                                ConsulRecord.purpose(c.name()));
                    } catch (RuntimeException e) {
                        throw new IllegalStateException("cannot open its stored token: " + e.getMessage(), e);
                    }
                    return new ConsulConnector(c, token, store, trust, metrics, clock, staleGrace, wait, ports,
                            executor);
                }, ConsulConnector::status);
    }

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

    /** Each member's state, sorted by name; a registered member without a connector of its generation is connecting. */
    public List<ConsulState> status() {
        List<ConsulState> states = new ArrayList<>();
        // Those whose connector runs on the leader replica, not here, as it published them.
        var published = connectors.published(ConsulState::newBuilder);
        for (ConsulRecord c : Records.list(store, Kind.CONSUL, ConsulRecord.class)) {
            states.add(connectors.running(c.name()).filter(r -> r.generation() == c.generation())
                    .map(ConsulConnector::status)
                    .or(() -> Optional.ofNullable(published.get(c.name())).map(ConsulState.Builder::build)
                            .filter(s -> s.getGeneration() == c.generation())).orElseGet(() -> ConsulState.newBuilder().setName(c.name())
                            .setNetwork(c.network()).setTrustDomain(c.trustDomain()).setAddress(c.address())
                            .setDatacenter(c.datacenter()).setState("connecting").setGeneration(c.generation())
                            .build()));
        }
        states.sort(Comparator.comparing(ConsulState::getName));
        return states;
    }

    Optional<ConsulState> status(String name) {
        return status().stream().filter(s -> s.getName().equals(name)).findFirst();
    }

    @Override
    public void close() {
        connectors.close();
    }
}
