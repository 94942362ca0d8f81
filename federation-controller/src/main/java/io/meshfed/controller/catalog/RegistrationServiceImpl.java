package io.meshfed.controller.catalog;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.DnsLabel;
import io.meshfed.api.v1.ReadinessReport;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.ReportAck;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.GatewayRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.IdentityRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.ServiceScope;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.server.PeerIdentity;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Agents report their workloads (each report replaces the agent's previous set); gateways report readiness. What an
 * agent reports is untrusted: fields out of bounds (names, port, address, locality, a weight outside 0-1000, where 0
 * means 1) refuse the whole report; a workload is kept only when its service is within the scope the agent's join
 * token granted, it names the agent's own mTLS inbound (no other agent's), and its service port fits the member's port
 * quota. Workloads that fail are left out and named in the answer (PERMISSION_DENIED, or RESOURCE_EXHAUSTED when only
 * the quota was exceeded); the rest of the report is applied. Listen ports are allocated in the importing networks and
 * freed in the same transaction ({@link PortAllocations#reconcile}).
 */
public final class RegistrationServiceImpl extends RegistrationServiceGrpc.RegistrationServiceImplBase {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");
    /** At most this many workloads in one report. */
    public static final int MAX_WORKLOADS = 256;
    private static final int MAX_FIELD = 255;
    /** At most this many addresses in one readiness report. */
    public static final int MAX_GATEWAY_ADDRESSES = 16;

    private final Store store;
    private final ControllerMetrics metrics;
    private final PortAllocations ports;
    private final MemberExports memberExports;
    private final Consumer<SpiffeId> reported;

    /**
     * @param ports the outbound listen ports, with the quota of service ports one member may provide
     * @param reported told of every agent whose report was recorded (its lease starts with its first report)
     */
    public RegistrationServiceImpl(Store store, ControllerMetrics metrics, PortAllocations ports,
            Consumer<SpiffeId> reported) {
        this.store = requireNonNull(store, "store");
        this.metrics = requireNonNull(metrics, "metrics");
        this.ports = requireNonNull(ports, "ports");
        this.memberExports = new MemberExports(ports);
        this.reported = requireNonNull(reported, "reported");
    }

    /** A workload left out of a report, and why. */
    private record Refused(String what, String reason, String message) {}

    @Override
    public void reportWorkloads(WorkloadReport request, StreamObserver<ReportAck> response) {
        SpiffeId peer = PeerIdentity.required();
        try {
            if (!MeshfedIds.hasRole(peer, MeshfedIds.Role.AGENT)) {
                throw Status.PERMISSION_DENIED.withDescription(peer + " is not a VM agent identity").asRuntimeException();
            }
            MemberRecord member = TrustState.memberOf(store, peer.trustDomain()).orElseThrow(() ->
                    Status.PERMISSION_DENIED.withDescription(peer + " belongs to no member").asRuntimeException());
            ServiceScope scope = Records.get(store, Kind.IDENTITY, peer.toString(), IdentityRecord.class)
                    .filter(i -> !i.revoked() && i.member().equals(member.name()) && i.scope() != null)
                    .map(IdentityRecord::scope).orElseThrow(() -> Status.PERMISSION_DENIED.withDescription(peer
                            + " holds no service scope (not joined with a scoped agent token, or revoked); join"
                            + " again with a token from 'meshfed token create --role agent --service NAME.NS'")
                            .asRuntimeException());
            if (request.getWorkloadsCount() > MAX_WORKLOADS) {
                throw Status.INVALID_ARGUMENT.withDescription("a report may hold at most " + MAX_WORKLOADS
                        + " workloads, not " + request.getWorkloadsCount()).asRuntimeException();
            }
            List<Refused> refused = new ArrayList<>();
            List<WorkloadSetRecord.Workload> inScope = new ArrayList<>();
            for (WorkloadInstance w : request.getWorkloadsList()) {
                WorkloadSetRecord.Workload workload = validate(w);
                String what = workload.service() + "." + workload.namespace();
                if (!scope.allows(workload.service(), workload.namespace())) {
                    refused.add(new Refused(what, "scope", what + " is outside the scope of " + peer + " (" + scope
                            + ")"));
                } else if (workload.inbound() == null) {
                    refused.add(new Refused(what, "no_inbound", what + " names no inbound: an agent's workloads are"
                            + " reached only through the agent's own mTLS inbound"));
                } else {
                    inScope.add(workload);
                }
            }
            long revision = store.transact(tx -> {
                List<WorkloadSetRecord.Workload> kept = new ArrayList<>();
                java.util.Map<String, String> owners = otherAgentsInbounds(tx, peer.toString());
                for (WorkloadSetRecord.Workload w : inScope) {
                    Optional<String> owner = Optional.ofNullable(owners.get(w.inbound()));
                    if (owner.isPresent()) {
                        refused.add(new Refused(w.service() + "." + w.namespace(), "inbound_taken", w.service() + "."
                                + w.namespace() + ": inbound " + w.inbound() + " is the inbound of " + owner.get()));
                    } else {
                        kept.add(w);
                    }
                }
                WorkloadSetRecord next = new WorkloadSetRecord(peer.toString(), member.name(), member.network(),
                        kept);
                List<String> overQuota = ports.overQuota(tx, next);
                if (!overQuota.isEmpty()) {
                    next = withoutPorts(next, overQuota, refused);
                }
                // A repeated report (an agent re-reporting after a reconnect) changes nothing and writes nothing; an
                // agent offers nothing by itself: what it reports is exported only by an admin's policy.
                memberExports.write(tx, next, List.of());
                return tx.revision();
            });
            reported.accept(peer);
            if (refused.isEmpty()) {
                response.onNext(ReportAck.newBuilder().setRevision(revision).build());
                response.onCompleted();
                return;
            }
            for (Refused r : refused) {
                metrics.registrationRefused(r.reason());
                AUDIT.warn("workload refused: agent={} service={} reason={}: {}", peer, r.what(), r.reason(),
                        r.message());
            }
            boolean onlyPorts = refused.stream().allMatch(r -> r.reason().startsWith("port"));
            response.onError((onlyPorts ? Status.RESOURCE_EXHAUSTED : Status.PERMISSION_DENIED)
                    .withDescription(refused.size() + " of " + request.getWorkloadsCount() + " workloads refused"
                            + " (the others are recorded at revision " + revision + "): " + describe(refused))
                    .asRuntimeException());
        } catch (io.grpc.StatusRuntimeException e) {
            response.onError(e);
        }
    }

    /** The first refusals, so that the status stays within a header's size however large the report. */
    private static String describe(List<Refused> refused) {
        int shown = Math.min(refused.size(), 8);
        String first = String.join("; ", refused.subList(0, shown).stream().map(Refused::message).toList());
        return shown == refused.size() ? first : first + "; and " + (refused.size() - shown) + " more";
    }

    /** The inbounds other agents' workloads name, each with its agent; read once per report. */
    private static java.util.Map<String, String> otherAgentsInbounds(StoreTransaction tx, String self) {
        java.util.Map<String, String> owners = new java.util.HashMap<>();
        for (WorkloadSetRecord set : Records.list(tx, Kind.WORKLOADS, WorkloadSetRecord.class)) {
            if (!set.agent().equals(self)) {
                set.workloads().stream().map(WorkloadSetRecord.Workload::inbound).filter(java.util.Objects::nonNull)
                        .forEach(i -> owners.putIfAbsent(i, set.agent()));
            }
        }
        return owners;
    }

    /** {@code set} without the workloads whose service port is beyond the quota; each is added to {@code refused}. */
    private WorkloadSetRecord withoutPorts(WorkloadSetRecord set, List<String> overQuota, List<Refused> refused) {
        List<WorkloadSetRecord.Workload> kept = new ArrayList<>();
        for (WorkloadSetRecord.Workload w : set.workloads()) {
            String key = PortAllocations.key(w);
            String what = w.service() + "." + w.namespace();
            if (overQuota.contains(key)) {
                refused.add(new Refused(what, "port_quota", what + " port " + w.port() + ": member " + set.member()
                        + " already holds its quota of " + ports.quota() + " service ports"));
            } else {
                kept.add(w);
            }
        }
        return new WorkloadSetRecord(set.agent(), set.member(), set.network(), kept);
    }

    private static WorkloadSetRecord.Workload validate(WorkloadInstance w) {
        String namespace = w.getNamespace().isEmpty() ? "default" : w.getNamespace();
        if (!DnsLabel.matches(w.getService()) || !DnsLabel.matches(namespace)) {
            throw Status.INVALID_ARGUMENT.withDescription("service '" + w.getService() + "." + namespace
                    + "': name and namespace must be DNS labels (" + DnsLabel.DESCRIPTION + ")").asRuntimeException();
        }
        if (w.getPort() < 1 || w.getPort() > 65535) {
            throw Status.INVALID_ARGUMENT.withDescription("service " + w.getService() + "." + namespace
                    + ": port " + w.getPort() + " is outside 1-65535").asRuntimeException();
        }
        if (w.getWeight() < 0 || w.getWeight() > WorkloadSetRecord.Workload.MAX_WEIGHT) {
            throw Status.INVALID_ARGUMENT.withDescription("service " + w.getService() + "." + namespace
                    + ": weight " + w.getWeight() + " is outside 1-" + WorkloadSetRecord.Workload.MAX_WEIGHT
                    + " (0 means 1)").asRuntimeException();
        }
        if (w.getAddress().isBlank() || w.getAddress().length() > MAX_FIELD || w.getLocality().length() > MAX_FIELD) {
            throw Status.INVALID_ARGUMENT.withDescription("service " + w.getService() + "." + namespace
                    + ": address must be 1-" + MAX_FIELD + " characters and locality at most " + MAX_FIELD)
                    .asRuntimeException();
        }
        String inbound = null;
        if (!w.getInbound().isEmpty()) {
            try {
                // One spelling per address, so that no other form of another agent's inbound passes as a new one.
                java.net.InetSocketAddress a = io.meshfed.api.HostPort.parse(w.getInbound());
                String host = a.getHostString().toLowerCase(java.util.Locale.ROOT);
                inbound = (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
            } catch (IllegalArgumentException e) {
                throw Status.INVALID_ARGUMENT.withDescription("service " + w.getService() + "." + namespace
                        + ": inbound '" + w.getInbound() + "' " + e.getMessage()).asRuntimeException();
            }
        }
        return new WorkloadSetRecord.Workload(w.getService(), namespace, w.getAddress(), w.getPort(), w.getHealthy(),
                w.getLocality(), inbound, w.getWeight());
    }

    @Override
    public void reportReadiness(ReadinessReport request, StreamObserver<ReportAck> response) {
        SpiffeId peer = PeerIdentity.required();
        try {
            if (request.getAddressesCount() > MAX_GATEWAY_ADDRESSES) {
                throw Status.INVALID_ARGUMENT.withDescription("a gateway may report at most " + MAX_GATEWAY_ADDRESSES
                        + " addresses, not " + request.getAddressesCount()).asRuntimeException();
            }
            List<String> advertised = new java.util.ArrayList<>(request.getAddressesList());
            if (!request.getTunnelAddress().isEmpty()) {
                if (request.getAddressesCount() == 0) {
                    throw Status.INVALID_ARGUMENT.withDescription("a tunnel address comes with the gateway's"
                            + " addresses, which this report lacks").asRuntimeException();
                }
                advertised.add(request.getTunnelAddress());
            }
            for (String a : advertised) {
                try {
                    io.meshfed.api.HostPort.parse(a);
                } catch (IllegalArgumentException e) {
                    throw Status.INVALID_ARGUMENT.withDescription("address '" + a + "' " + e.getMessage())
                            .asRuntimeException();
                }
            }
            long revision = store.transact(tx -> {
                GatewayRecord gateway = Records.get(tx, Kind.GATEWAY, peer.toString(), GatewayRecord.class)
                        .orElseThrow(() -> Status.PERMISSION_DENIED.withDescription(peer + " has not joined as a"
                                + " gateway").asRuntimeException());
                MemberRecord member = Records.get(tx, Kind.MEMBER, gateway.member(), MemberRecord.class)
                        .orElseThrow(() -> Status.PERMISSION_DENIED.withDescription(peer + " belongs to no member")
                                .asRuntimeException());
                MemberAddresses allowed = MemberAddresses.of(member);
                for (String a : advertised) {
                    allowed.refusal(a).ifPresent(reason -> {
                        throw Status.PERMISSION_DENIED.withDescription(reason + " (readiness of " + peer
                                + " refused; its previous addresses stay)").asRuntimeException();
                    });
                }
                GatewayRecord next = gateway.withReady(request.getReady());
                if (request.getAddressesCount() > 0) {
                    // A full advertisement: the addresses and the tunnel listener (none when not named).
                    next = next.withAddresses(request.getAddressesList())
                            .withTunnelAddress(request.getTunnelAddress());
                }
                if (!next.equals(gateway)) {
                    Records.put(tx, Kind.GATEWAY, peer.toString(), next, StoreTransaction.ANY);
                }
                return tx.revision();
            });
            response.onNext(ReportAck.newBuilder().setRevision(revision).build());
            response.onCompleted();
        } catch (io.grpc.StatusRuntimeException e) {
            response.onError(e);
        }
    }
}
