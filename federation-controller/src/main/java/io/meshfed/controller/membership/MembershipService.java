package io.meshfed.controller.membership;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.DnsLabel;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Member;
import io.meshfed.api.v1.MemberList;
import io.meshfed.api.v1.Network;
import io.meshfed.api.v1.NetworkList;
import io.meshfed.controller.errors.AlreadyExistsException;
import io.meshfed.controller.errors.FailedPreconditionException;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.MemberType;
import io.meshfed.controller.model.MetaRecord;
import io.meshfed.controller.model.NetworkRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.trust.InvalidSpiffeIdException;
import io.meshfed.trust.TrustDomain;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The federation's membership, as admins decide it: networks (with their gateway address and gateway members),
 * members (with their type, network, trust domain and CIDRs), and the version of the federated bundle set, which
 * changes with the set of members' trust domains. The admin API and the cluster operations both change membership
 * here. Each operation validates its input and fails with a domain exception whose message names what was wrong and
 * what to do.
 */
public final class MembershipService {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");

    private final Store store;
    private final FederationIdentity identity;
    private final PortAllocations ports;

    /** @param ports the outbound listen ports, which a new member's network may need for what it imports */
    public MembershipService(Store store, FederationIdentity identity, PortAllocations ports) {
        this.store = requireNonNull(store, "store");
        this.identity = requireNonNull(identity, "identity");
        this.ports = requireNonNull(ports, "ports");
    }

    private static InvalidArgumentException invalid(String message) {
        return new InvalidArgumentException(message);
    }

    private static void checkName(String what, String name) {
        if (!DnsLabel.matches(name)) {
            throw invalid(what + " name '" + name + "' " + DnsLabel.RULE);
        }
    }

    private static void checkAddress(String what, String address) {
        if (address.isEmpty()) {
            return;
        }
        int port;
        try {
            port = io.meshfed.api.HostPort.parse(address).getPort();
        } catch (IllegalArgumentException e) {
            throw invalid(what + " '" + address + "' must be HOST:PORT");
        }
        if (port == 0) {
            throw invalid(what + " '" + address + "': port must be 1-65535");
        }
    }

    public Network createNetwork(CreateNetworkRequest request) {
        checkName("network", request.getName());
        checkAddress("gateway address", request.getGatewayAddress());
        checkAddress("tunnel address", request.getTunnelAddress());
        if (!request.getTunnelAddress().isEmpty() && request.getGatewayAddress().isEmpty()) {
            throw invalid("tunnel address '" + request.getTunnelAddress() + "' needs a gateway address beside it");
        }
        List<String> gatewayMembers = gatewayMembers(request);
        NetworkRecord record = store.transact(tx -> {
            var existing = Records.get(tx, Kind.NETWORK, request.getName(), NetworkRecord.class);
            checkGatewayMembers(tx, request.getName(), gatewayMembers, existing.isPresent());
            String address = request.getGatewayAddress().isEmpty()
                    ? existing.map(NetworkRecord::gatewayAddress).orElse("") : request.getGatewayAddress();
            List<String> members = gatewayMembers.isEmpty()
                    ? existing.map(NetworkRecord::gatewayMembers).orElse(List.of()) : gatewayMembers;
            String tunnel = request.getTunnelAddress().isEmpty()
                    ? existing.map(NetworkRecord::tunnelAddress).orElse("") : request.getTunnelAddress();
            NetworkRecord n = new NetworkRecord(request.getName(), address, members, tunnel);
            if (existing.isPresent() && existing.get().equals(n)) {
                return n; // same request again: nothing to do
            }
            Records.put(tx, Kind.NETWORK, n.name(), n, StoreTransaction.ANY);
            return n;
        });
        AUDIT.info("network {} gateway={} tunnel={} gatewayMembers={}", record.name(), record.gatewayAddress(),
                record.tunnelAddress(), record.gatewayMembers());
        return network(record);
    }

    /** The request's gateway members, in order, without repeats. */
    private static List<String> gatewayMembers(CreateNetworkRequest request) {
        if (request.getGatewayMembersCount() > 16) {
            throw invalid("a network may name at most 16 gateway members, not " + request.getGatewayMembersCount());
        }
        for (String m : request.getGatewayMembersList()) {
            checkName("gateway member", m);
        }
        return request.getGatewayMembersList().stream().distinct().toList();
    }

    /** Each gateway member must be a member of {@code network} already. */
    private static void checkGatewayMembers(StoreTransaction tx, String network, List<String> gatewayMembers,
            boolean networkExists) {
        for (String name : gatewayMembers) {
            MemberRecord m = Records.get(tx, Kind.MEMBER, name, MemberRecord.class).orElseThrow(() ->
                    new FailedPreconditionException("gateway member '" + name + "' does not exist; add"
                            + " it first with: meshfed member add " + name + " --type vm --network " + network
                            + (networkExists ? "" : " (after creating the network without --gateway-member)")));
            if (!m.network().equals(network)) {
                throw new FailedPreconditionException("gateway member '" + name + "' is in network "
                        + m.network() + ", not " + network + "; a network's gateways come from its own members");
            }
        }
    }

    private static Network network(NetworkRecord n) {
        return Network.newBuilder().setName(n.name()).setGatewayAddress(n.gatewayAddress())
                .setTunnelAddress(n.tunnelAddress())
                .addAllGatewayMembers(n.gatewayMembers()).build();
    }

    public NetworkList listNetworks() {
        return NetworkList.newBuilder().addAllNetworks(Records.list(store, Kind.NETWORK, NetworkRecord.class).stream()
                .map(MembershipService::network).toList()).build();
    }

    public Member addMember(AddMemberRequest request) {
        String name = request.getType().isEmpty() ? MemberType.VM.name() : request.getType();
        MemberType type = MemberType.named(name).orElseThrow(() -> invalid("member type '" + name
                + "' does not exist; the types are " + MemberType.names()));
        if (type.joinedBy().isPresent()) {
            throw invalid(type.name() + " members are added by '" + type.joinedBy().get().replace("NAME",
                    request.getName()) + "', which also hands over the connector's credentials");
        }
        return createMember(request, type.name());
    }

    /** A member of a type whose connector brings credentials, for its join command (see ClusterOperations). */
    public Member addConnectedMember(AddMemberRequest request, MemberType type) {
        return createMember(request, type.name());
    }

    /**
     * A trust domain this controller federates with, or that an export names as an outside one, cannot become a
     * member's: the member's CA would then sign identities that the admin let in as the outside domain's (its
     * exports and policies), and the outside domain's bundle would silently leave the set.
     */
    private static void refuseOutsideTrustDomain(io.meshfed.controller.store.StoreReader reader, TrustDomain td) {
        if (Records.get(reader, Kind.FEDERATION, td.name(), io.meshfed.controller.model.FederationRecord.class)
                .isPresent()) {
            throw new FailedPreconditionException("trust domain " + td + " is an outside trust domain this controller"
                    + " federates with; a member needs a trust domain of its own (or end the federation first:"
                    + " meshfed trust federation delete " + td + ")");
        }
        List<String> exports = Records.list(reader, Kind.EXPORT, io.meshfed.controller.model.ExportRecord.class)
                .stream().filter(e -> e.toTrustDomains().contains(td.name()))
                .map(e -> io.meshfed.controller.model.ExportRecord.key(e.service(), e.namespace())).sorted().toList();
        if (!exports.isEmpty()) {
            throw new FailedPreconditionException("exports name trust domain " + td + " as an outside one ("
                    + String.join(", ", exports) + "); a member needs a trust domain of its own (or unexport"
                    + " first: meshfed unexport SERVICE --to " + td + ")");
        }
    }

    private Member createMember(AddMemberRequest request, String type) {
        checkName("member", request.getName());
        TrustDomain td;
        try {
            td = request.getTrustDomain().isEmpty()
                    ? TrustDomain.parse(request.getName() + "." + identity.federationTrustDomain().name())
                    : TrustDomain.parse(request.getTrustDomain());
        } catch (InvalidSpiffeIdException e) {
            throw invalid("trust domain: " + e.getMessage());
        }
        if (td.equals(identity.federationTrustDomain())) {
            throw invalid("trust domain " + td + " is the federation's own; a member needs its own trust domain");
        }
        refuseOutsideTrustDomain(store, td); // before its CA is made
        List<String> cidrs = cidrs(request);
        if (Records.get(store, Kind.NETWORK, request.getNetwork(), NetworkRecord.class).isEmpty()) {
            throw new FailedPreconditionException("network '" + request.getNetwork() + "' does not exist;"
                    + " create it with: meshfed network create " + request.getNetwork());
        }
        try {
            if (request.hasCa() && !request.getCa().getBackend().isEmpty()) {
                identity.configure(td, request.getCa().getBackend(), request.getCa().getSettingsMap());
            } else {
                identity.ca(td); // the member's CA exists before anyone can join it
            }
        } catch (io.meshfed.trust.ca.CaException e) { // the operator's CA files for it do not load: theirs to fix
            throw new FailedPreconditionException(e.getMessage(), e);
        }
        MemberRecord record = store.transact(tx -> {
            refuseOutsideTrustDomain(tx, td); // again, in the transaction that adds the member
            var existing = Records.get(tx, Kind.MEMBER, request.getName(), MemberRecord.class);
            if (existing.isPresent()) {
                MemberRecord e = existing.get();
                if (e.network().equals(request.getNetwork()) && e.trustDomain().equals(td.name())
                        && e.type().equals(type)) {
                    if (cidrs.isEmpty() || cidrs.equals(e.cidrs())) {
                        return e; // same request again: nothing to do
                    }
                    MemberRecord changed = new MemberRecord(e.name(), e.type(), e.network(), e.trustDomain(),
                            e.identities(), cidrs); // new CIDRs replace the old ones
                    Records.put(tx, Kind.MEMBER, e.name(), changed, StoreTransaction.ANY);
                    return changed;
                }
                throw new AlreadyExistsException("member '" + e.name() + "' exists already with "
                        + differences(e, type, request.getNetwork(), td.name()) + "; a member's type, network and"
                        + " trust domain do not change: add it under another name");
            }
            for (MemberRecord other : Records.list(tx, Kind.MEMBER, MemberRecord.class)) {
                if (other.trustDomain().equals(td.name())) {
                    throw new AlreadyExistsException("trust domain " + td + " belongs to member '"
                            + other.name() + "' already");
                }
            }
            MemberRecord m = new MemberRecord(request.getName(), type, request.getNetwork(), td.name(), List.of(),
                    cidrs);
            Records.put(tx, Kind.MEMBER, m.name(), m, StoreTransaction.ABSENT);
            // The first member of a network (that names none) is its gateway member until the admin names others.
            Records.get(tx, Kind.NETWORK, m.network(), NetworkRecord.class)
                    .filter(n -> n.gatewayMembers().isEmpty())
                    .ifPresent(n -> Records.put(tx, Kind.NETWORK, n.name(), n.withGatewayMembers(List.of(m.name())),
                            StoreTransaction.ANY));
            bumpBundleSetVersion(tx);
            ports.reconcile(tx); // its network may now import what is exported to it (or to all)
            return m;
        });
        AUDIT.info("member {} type={} network={} trustDomain={} cidrs={}", record.name(), record.type(),
                record.network(), record.trustDomain(), record.cidrs());
        return member(record);
    }

    /** The request's CIDRs, checked, in order, without repeats. */
    private static List<String> cidrs(AddMemberRequest request) {
        if (request.getCidrsCount() > io.meshfed.controller.catalog.MemberAddresses.MAX_CIDRS) {
            throw invalid("a member may have at most " + io.meshfed.controller.catalog.MemberAddresses.MAX_CIDRS
                    + " CIDRs, not " + request.getCidrsCount());
        }
        for (String cidr : request.getCidrsList()) {
            try {
                io.meshfed.controller.catalog.MemberAddresses.checkCidr(cidr);
            } catch (IllegalArgumentException e) {
                throw invalid("member '" + request.getName() + "': " + e.getMessage());
            }
        }
        return request.getCidrsList().stream().distinct().toList();
    }

    private static Member member(MemberRecord m) {
        return Member.newBuilder().setName(m.name()).setType(m.type()).setNetwork(m.network())
                .setTrustDomain(m.trustDomain()).addAllIdentities(m.identities()).addAllCidrs(m.cidrs()).build();
    }

    /** Members with their live identities: a revoked one stays in the member's record but is not shown. */
    public MemberList listMembers() {
        java.util.Set<String> revoked = new java.util.HashSet<>();
        Records.list(store, Kind.IDENTITY, io.meshfed.controller.model.IdentityRecord.class).stream()
                .filter(io.meshfed.controller.model.IdentityRecord::revoked)
                .forEach(r -> revoked.add(r.spiffeId()));
        return MemberList.newBuilder().addAllMembers(Records.list(store, Kind.MEMBER, MemberRecord.class).stream()
                .map(m -> member(m).toBuilder().clearIdentities().addAllIdentities(m.identities().stream()
                        .filter(id -> !revoked.contains(id)).toList()).build()).toList()).build();
    }


    /**
     * Removes member {@code name} in the caller's transaction: from its network's gateway members, then its record,
     * and bumps the bundle set version when it was there (its trust domain leaves the set).
     *
     * @return whether the member existed
     */
    public static boolean removeMember(StoreTransaction tx, String name, String network) {
        Records.get(tx, Kind.NETWORK, network, NetworkRecord.class)
                .filter(n -> n.gatewayMembers().contains(name))
                .ifPresent(n -> Records.put(tx, Kind.NETWORK, n.name(), n.withoutGatewayMember(name),
                        StoreTransaction.ANY));
        if (!tx.delete(Kind.MEMBER.storeName(), name, StoreTransaction.ANY)) {
            return false;
        }
        bumpBundleSetVersion(tx);
        return true;
    }

    /**
     * Removes a connected member (a Kubernetes cluster, a Consul datacenter) in the caller's transaction: the
     * workload set its connector wrote, the member, the gateways that joined for it, and the listen ports its
     * exports and its network's imports held.
     */
    public static void removeConnectedMember(StoreTransaction tx, String name, String network, String workloadSetKey,
            io.meshfed.controller.catalog.PortAllocations ports) {
        tx.delete(Kind.WORKLOADS.storeName(), workloadSetKey, StoreTransaction.ANY);
        removeMember(tx, name, network);
        ports.reconcile(tx);
        for (io.meshfed.controller.model.GatewayRecord g : Records.list(tx, Kind.GATEWAY,
                io.meshfed.controller.model.GatewayRecord.class)) {
            if (g.member().equals(name)) {
                tx.delete(Kind.GATEWAY.storeName(), g.spiffeId(), StoreTransaction.ANY);
            }
        }
    }

    /**
     * The federated bundle set changed (a trust domain joined or left): its version goes up in the same transaction,
     * so every subscriber receives the new set ({@link io.meshfed.controller.identity.TrustState} reads it).
     */
    static void bumpBundleSetVersion(StoreTransaction tx) {
        io.meshfed.controller.identity.TrustState.bumpBundleSetVersion(tx);
    }

    /** What differs between a stored member and a request for it: "network east, not west", in field order. */
    private static String differences(MemberRecord stored, String type, String network, String trustDomain) {
        List<String> differ = new java.util.ArrayList<>();
        if (!stored.type().equals(type)) {
            differ.add("type " + stored.type() + ", not " + type);
        }
        if (!stored.network().equals(network)) {
            differ.add("network " + stored.network() + ", not " + network);
        }
        if (!stored.trustDomain().equals(trustDomain)) {
            differ.add("trust domain " + stored.trustDomain() + ", not " + trustDomain);
        }
        return String.join(" and ", differ);
    }
}
