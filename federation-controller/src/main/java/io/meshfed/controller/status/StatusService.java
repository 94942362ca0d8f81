package io.meshfed.controller.status;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import io.meshfed.api.v1.CatalogEndpoint;
import io.meshfed.api.v1.CatalogNetwork;
import io.meshfed.api.v1.CatalogService;
import io.meshfed.api.v1.ControllerStatus;
import io.meshfed.api.v1.ExportState;
import io.meshfed.api.v1.OutboundPortShortfall;
import io.meshfed.api.v1.ServiceCatalog;
import io.meshfed.controller.catalog.CatalogView;
import io.meshfed.controller.catalog.ExportOperations;
import io.meshfed.controller.catalog.PortRange;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.PortShortfallRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.connector.kubernetes.ClusterConnectors;
import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.stream.ConfigStreamService;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the controller sees, for admins: its status (trust domain, store revision, start time, each config stream
 * subscriber and each cluster connector) and the federated service catalog (each service's members, endpoints by
 * network, export decision and outbound listen ports). Read-only.
 */
public final class StatusService {
    private final Store store;
    private final FederationIdentity identity;
    private final TrustState trust;
    private final ConfigStreamService streams;
    private final ClusterConnectors connectors;
    private final io.meshfed.controller.connector.consul.ConsulConnectors consul;
    private final Instant startedAt;
    private final PortRange outboundPorts;
    private final io.meshfed.controller.rotation.RootRotations rotations;
    private final io.meshfed.controller.federation.FederationOperations federations;

    /** @param outboundPorts the range every network allocates outbound listen ports from */
    public StatusService(Store store, FederationIdentity identity, TrustState trust, ConfigStreamService streams,
            ClusterConnectors connectors, io.meshfed.controller.connector.consul.ConsulConnectors consul, Clock clock,
            PortRange outboundPorts, io.meshfed.controller.rotation.RootRotations rotations,
            io.meshfed.controller.federation.FederationOperations federations,
            io.meshfed.controller.leader.LeaderElection leadership) {
        this.leadership = requireNonNull(leadership, "leadership");
        this.rotations = requireNonNull(rotations, "rotations");
        this.federations = requireNonNull(federations, "federations");
        this.outboundPorts = requireNonNull(outboundPorts, "outboundPorts");
        this.store = requireNonNull(store, "store");
        this.identity = requireNonNull(identity, "identity");
        this.trust = requireNonNull(trust, "trust");
        this.streams = requireNonNull(streams, "streams");
        this.connectors = requireNonNull(connectors, "connectors");
        this.consul = requireNonNull(consul, "consul");
        this.startedAt = clock.instant();
    }

    public ServiceCatalog listServices() {
        CatalogView view = CatalogView.load(store, trust);
        ServiceCatalog.Builder catalog = ServiceCatalog.newBuilder();
        for (Map.Entry<CatalogView.ServiceKey, List<CatalogView.Instance>> e : view.services().entrySet()) {
            CatalogService.Builder s = CatalogService.newBuilder().setName(e.getKey().name())
                    .setNamespace(e.getKey().namespace());
            s.addAllMembers(new TreeSet<>(e.getValue().stream().map(CatalogView.Instance::member).toList()));
            ExportRecord export = view.export(e.getKey());
            s.setExport(export == null ? ExportState.newBuilder().setService(e.getKey().name())
                    .setNamespace(e.getKey().namespace()).build() : ExportOperations.exportState(export));
            Map<String, List<CatalogView.Instance>> byNetwork = new TreeMap<>();
            e.getValue().forEach(i -> byNetwork.computeIfAbsent(i.network(), n -> new ArrayList<>()).add(i));
            byNetwork.forEach((network, instances) -> s.addNetworks(CatalogNetwork.newBuilder().setNetwork(network)
                    .addAllEndpoints(instances.stream().map(i -> CatalogEndpoint.newBuilder().setAddress(i.address())
                            .setPort(i.port()).setMember(i.member()).setHealthy(i.healthy()).build()).toList())));
            // Each importing network's listen port, by network name.
            new TreeSet<>(e.getValue().stream().map(CatalogView.Instance::port).toList()).forEach(port ->
                    view.ports(e.getKey(), port).forEach((network, allocation) -> s.addOutboundPorts(
                            io.meshfed.api.v1.OutboundPort.newBuilder().setServicePort(port)
                                    .setListenPort(allocation.listenPort()).setNetwork(network))));
            catalog.addServices(s);
        }
        return catalog.build();
    }

    private final io.meshfed.controller.leader.LeaderElection leadership;

    public ControllerStatus status() {
        ControllerStatus.Builder replicas = ControllerStatus.newBuilder().setReplica(leadership.holder());
        leadership.lease().ifPresent(l -> replicas.setLeader(l.holder()).setLeaderEpoch(l.epoch()));
        return replicas
                .setTrustDomain(identity.federationTrustDomain().name())
                .setStoreRevision(store.revision())
                .setStartedAt(timestamp(startedAt))
                .addAllSubscribers(streams.status())
                .addAllClusters(connectors.status())
                .addAllConsulMembers(consul.status())
                .addAllRotations(rotations.inProgress())
                .addAllFederations(federations.states())
                .setOutboundPortRange(outboundPorts.toString())
                .addAllOutboundPortShortfalls(Records.list(store, Kind.PORT_SHORTFALL, PortShortfallRecord.class)
                        .stream().map(p -> OutboundPortShortfall.newBuilder().setNetwork(p.network())
                                .setExhausted(p.exhausted()).setOverQuota(p.overQuota()).addAllFirst(p.first())
                                .build()).toList())
                .build();
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
}
