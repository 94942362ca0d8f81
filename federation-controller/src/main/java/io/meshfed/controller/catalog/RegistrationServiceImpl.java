package io.meshfed.controller.catalog;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.v1.ReadinessReport;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.ReportAck;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.GatewayRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.PortAllocationRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.server.PeerIdentity;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.trust.SpiffeId;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Agents report their workloads (each report replaces the agent's previous set); gateways report readiness. A new
 * service port gets a listen port from {@code [firstPort, lastPort]} in the same transaction, stable afterwards.
 */
public final class RegistrationServiceImpl extends RegistrationServiceGrpc.RegistrationServiceImplBase {
    static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern AGENT_PATH = Pattern.compile("/ns/[^/]+/vm/[^/]+");
    public static final int FIRST_PORT = 15100;
    public static final int LAST_PORT = 15999;
    /** At most this many addresses in one readiness report. */
    public static final int MAX_GATEWAY_ADDRESSES = 16;

    private final Store store;

    /** Whether the ID is a VM agent's ({@code /ns/<namespace>/vm/<name>}). */
    public static boolean isAgent(SpiffeId id) {
        return AGENT_PATH.matcher(id.path()).matches();
    }

    public RegistrationServiceImpl(Store store) {
        this.store = requireNonNull(store, "store");
    }

    @Override
    public void reportWorkloads(WorkloadReport request, StreamObserver<ReportAck> response) {
        SpiffeId peer = PeerIdentity.required();
        try {
            if (!isAgent(peer)) {
                throw Status.PERMISSION_DENIED.withDescription(peer + " is not a VM agent identity").asRuntimeException();
            }
            MemberRecord member = TrustState.memberOf(store, peer.trustDomain()).orElseThrow(() ->
                    Status.PERMISSION_DENIED.withDescription(peer + " belongs to no member").asRuntimeException());
            List<WorkloadSetRecord.Workload> workloads = new ArrayList<>();
            for (WorkloadInstance w : request.getWorkloadsList()) {
                workloads.add(validate(w));
            }
            WorkloadSetRecord next = new WorkloadSetRecord(peer.toString(), member.name(), member.network(), workloads);
            long revision = store.transact(tx -> {
                // A repeated report (an agent re-reporting after a reconnect) changes nothing and writes nothing.
                if (!Records.get(tx, Kind.WORKLOADS, peer.toString(), WorkloadSetRecord.class)
                        .filter(next::equals).isPresent()) {
                    Records.put(tx, Kind.WORKLOADS, peer.toString(), next, StoreTransaction.ANY);
                    allocatePorts(tx, workloads);
                }
                return tx.revision();
            });
            response.onNext(ReportAck.newBuilder().setRevision(revision).build());
            response.onCompleted();
        } catch (io.grpc.StatusRuntimeException e) {
            response.onError(e);
        }
    }

    private static WorkloadSetRecord.Workload validate(WorkloadInstance w) {
        String namespace = w.getNamespace().isEmpty() ? "default" : w.getNamespace();
        if (!DNS_LABEL.matcher(w.getService()).matches() || !DNS_LABEL.matcher(namespace).matches()) {
            throw Status.INVALID_ARGUMENT.withDescription("service '" + w.getService() + "." + namespace
                    + "': name and namespace must be DNS labels (lowercase letters, digits, '-')").asRuntimeException();
        }
        if (w.getPort() < 1 || w.getPort() > 65535) {
            throw Status.INVALID_ARGUMENT.withDescription("service " + w.getService() + "." + namespace
                    + ": port " + w.getPort() + " is outside 1-65535").asRuntimeException();
        }
        if (w.getAddress().isBlank()) {
            throw Status.INVALID_ARGUMENT.withDescription("service " + w.getService() + "." + namespace
                    + ": address is empty").asRuntimeException();
        }
        if (!w.getInbound().isEmpty()) {
            try {
                io.meshfed.api.HostPort.parse(w.getInbound());
            } catch (IllegalArgumentException e) {
                throw Status.INVALID_ARGUMENT.withDescription("service " + w.getService() + "." + namespace
                        + ": inbound '" + w.getInbound() + "' " + e.getMessage()).asRuntimeException();
            }
        }
        return new WorkloadSetRecord.Workload(w.getService(), namespace, w.getAddress(), w.getPort(), w.getHealthy(),
                w.getLocality(), w.getInbound().isEmpty() ? null : w.getInbound());
    }

    /** Gives every new service port of {@code workloads} a listen port (in the caller's transaction). */
    public static void allocatePorts(StoreTransaction tx, List<WorkloadSetRecord.Workload> workloads) {
        List<String> left = allocatePortsWherePossible(tx, workloads);
        if (!left.isEmpty()) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("no free outbound listen port left in " + FIRST_PORT
                    + "-" + LAST_PORT + " for " + left.get(0)).asRuntimeException();
        }
    }

    /**
     * As {@link #allocatePorts}, but service ports that find no free listen port are returned (as
     * {@code port.name.namespace}) instead of failing the whole set: they stay in the catalog, reachable in their
     * own network, without an outbound listener elsewhere.
     */
    public static List<String> allocatePortsWherePossible(StoreTransaction tx,
            List<WorkloadSetRecord.Workload> workloads) {
        List<PortAllocationRecord> existing = Records.list(tx, Kind.PORT, PortAllocationRecord.class);
        BitSet used = new BitSet();
        existing.forEach(p -> used.set(p.listenPort()));
        List<String> left = new ArrayList<>();
        for (WorkloadSetRecord.Workload w : workloads) {
            String key = PortAllocationRecord.key(w.service(), w.namespace(), w.port());
            if (left.contains(key) || tx.get(Kind.PORT.storeName(), key).isPresent()) {
                continue;
            }
            int port = used.nextClearBit(FIRST_PORT);
            if (port > LAST_PORT) {
                left.add(key);
                continue;
            }
            used.set(port);
            Records.put(tx, Kind.PORT, key, new PortAllocationRecord(w.service(), w.namespace(), w.port(), port),
                    StoreTransaction.ABSENT);
        }
        return left;
    }

    @Override
    public void reportReadiness(ReadinessReport request, StreamObserver<ReportAck> response) {
        SpiffeId peer = PeerIdentity.required();
        try {
            if (request.getAddressesCount() > MAX_GATEWAY_ADDRESSES) {
                throw Status.INVALID_ARGUMENT.withDescription("a gateway may report at most " + MAX_GATEWAY_ADDRESSES
                        + " addresses, not " + request.getAddressesCount()).asRuntimeException();
            }
            for (String a : request.getAddressesList()) {
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
                for (String a : request.getAddressesList()) {
                    allowed.refusal(a).ifPresent(reason -> {
                        throw Status.PERMISSION_DENIED.withDescription(reason + " (readiness of " + peer
                                + " refused; its previous addresses stay)").asRuntimeException();
                    });
                }
                GatewayRecord next = gateway.withReady(request.getReady());
                if (request.getAddressesCount() > 0) {
                    next = next.withAddresses(request.getAddressesList());
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
