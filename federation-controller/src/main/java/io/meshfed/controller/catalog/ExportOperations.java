package io.meshfed.controller.catalog;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.DnsLabel;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ExportState;
import io.meshfed.controller.errors.FailedPreconditionException;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.NetworkRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin's export decisions: export a service to members (or all), and withdraw it. The decision covers every
 * member's instances of the service; a cluster's offer (a ServiceExport) is kept beside it, never widening it.
 * An export may also set the service's failover networks (the order in which subscribers try remote networks for
 * it, before the rest by locality); each must be an existing network, named once. Unexport with failover networks
 * takes those out of the order. The listen ports of the importing networks change in the same transaction.
 */
public final class ExportOperations {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");

    /** At most this many failover networks per service. */
    public static final int MAX_FAILOVER_NETWORKS = 32;
    /** The most outside trust domains one export names. */
    public static final int MAX_TRUST_DOMAINS = 32;

    private final Store store;
    private final PortAllocations ports;

    public ExportOperations(Store store, PortAllocations ports) {
        this.store = requireNonNull(store, "store");
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

    public ExportState export(ExportRequest request) {
        return changeExport(request, true);
    }

    public ExportState unexport(ExportRequest request) {
        return changeExport(request, false);
    }

    private ExportState changeExport(ExportRequest request, boolean add) {
        checkName("service", request.getService());
        String namespace = request.getNamespace().isEmpty() ? "default" : request.getNamespace();
        checkName("namespace", namespace);
        List<String> failover = failoverNetworks(request);
        List<String> trustDomains = trustDomains(request);
        boolean whom = request.getToAll() || request.getToMembersCount() > 0 || !trustDomains.isEmpty();
        if (!whom && failover.isEmpty()) {
            throw invalid("say whom to " + (add ? "export to" : "withdraw from") + ": --to MEMBER, --to"
                    + " TRUST-DOMAIN (federated) or --all" + (add ? " (or only --failover NET,... to set its"
                    + " failover order)" : ""));
        }
        ExportRecord result = store.transact(tx -> {
            for (String m : request.getToMembersList()) {
                if (Records.get(tx, Kind.MEMBER, m, MemberRecord.class).isEmpty()) {
                    throw new NotFoundException("member '" + m + "' does not exist");
                }
            }
            if (add) {
                for (String td : trustDomains) {
                    checkFederated(tx, td);
                }
            }
            for (String n : failover) {
                if (Records.get(tx, Kind.NETWORK, n, NetworkRecord.class).isEmpty()) {
                    throw invalid("failover network '" + n + "' does not exist; see meshfed network list");
                }
            }
            String key = ExportRecord.key(request.getService(), namespace);
            java.util.Optional<ExportRecord> stored = Records.get(tx, Kind.EXPORT, key, ExportRecord.class);
            ExportRecord current = stored.orElse(new ExportRecord(request.getService(), namespace, false, List.of()));
            if (!whom) {
                // Only the failover order changes; whoever made the policy (an admin, a cluster's offer) still has.
                if (!stored.isPresent()) {
                    throw new FailedPreconditionException("service " + key + " is not exported; export it with --to"
                            + " MEMBER or --all (together with --failover, or before)");
                }
                List<String> order = new ArrayList<>(current.failoverNetworks());
                if (add) {
                    order = failover;
                } else {
                    order.removeAll(failover);
                }
                ExportRecord next = new ExportRecord(current.service(), current.namespace(), current.toAll(),
                        current.toMembers(), current.offeredBy(), order, current.toTrustDomains());
                Records.put(tx, Kind.EXPORT, key, next, StoreTransaction.ANY);
                return next;
            }
            TreeSet<String> members = new TreeSet<>(current.toMembers());
            TreeSet<String> domains = new TreeSet<>(current.toTrustDomains());
            boolean toAll = current.toAll();
            List<String> order = new ArrayList<>(current.failoverNetworks());
            if (add) {
                members.addAll(request.getToMembersList());
                domains.addAll(trustDomains);
                toAll |= request.getToAll();
                if (!failover.isEmpty()) {
                    order = failover; // a new order replaces the old one
                }
            } else {
                members.removeAll(request.getToMembersList());
                domains.removeAll(trustDomains);
                toAll &= !request.getToAll();
                order.removeAll(failover);
            }
            // The admin's decision covers every member's instances from now on.
            ExportRecord next = new ExportRecord(request.getService(), namespace, toAll, List.copyOf(members), null,
                    order, List.copyOf(domains));
            if (next.isEmpty() && current.offeredBy() == null) { // its failover order goes with it
                tx.delete(Kind.EXPORT.storeName(), key, StoreTransaction.ANY);
            } else {
                // Kept when empty over a cluster's offer: "exported to nobody" is then the admin's decision, and a
                // ServiceExport does not bring the offer back.
                Records.put(tx, Kind.EXPORT, key, next, StoreTransaction.ANY);
            }
            ports.reconcile(tx); // the importing networks' listen ports follow the decision
            return next;
        });
        AUDIT.info("{} {}.{} to all={} members={} trust domains={} failover={}", add ? "export" : "unexport",
                request.getService(), namespace, request.getToAll(), request.getToMembersList(), trustDomains,
                failover);
        return exportState(result);
    }

    /** The request's outside trust domains, parsed (at most {@value #MAX_TRUST_DOMAINS}). */
    private static List<String> trustDomains(ExportRequest request) {
        if (request.getToTrustDomainsCount() > MAX_TRUST_DOMAINS) {
            throw invalid("at most " + MAX_TRUST_DOMAINS + " trust domains per export, not "
                    + request.getToTrustDomainsCount());
        }
        List<String> out = new ArrayList<>();
        for (String td : request.getToTrustDomainsList()) {
            try {
                out.add(io.meshfed.trust.TrustDomain.parse(td).name());
            } catch (IllegalArgumentException e) {
                throw invalid("trust domain '" + td + "': " + e.getMessage());
            }
        }
        return out;
    }

    /**
     * An export to an outside trust domain needs a federation with it (else no proxy could verify its SVIDs); a
     * member's trust domain is exported to by its member's name, the federation's own to nobody.
     */
    private static void checkFederated(StoreTransaction tx, String td) {
        java.util.Optional<MemberRecord> member = io.meshfed.controller.identity.TrustState.memberOf(tx,
                io.meshfed.trust.TrustDomain.parse(td));
        if (member.isPresent()) {
            throw invalid("trust domain " + td + " is member " + member.get().name() + "'s; export to it with --to "
                    + member.get().name());
        }
        if (Records.get(tx, Kind.FEDERATION, td, io.meshfed.controller.model.FederationRecord.class).isEmpty()) {
            throw new FailedPreconditionException("this controller does not federate with trust domain " + td
                    + "; meshfed trust federate " + td + " --bundle-endpoint URL --profile ... first");
        }
    }

    /** The request's failover networks, checked as names, in order; a network named twice is refused. */
    private static List<String> failoverNetworks(ExportRequest request) {
        if (request.getFailoverNetworksCount() > MAX_FAILOVER_NETWORKS) {
            throw invalid("at most " + MAX_FAILOVER_NETWORKS + " failover networks, not "
                    + request.getFailoverNetworksCount());
        }
        List<String> out = new ArrayList<>();
        for (String n : request.getFailoverNetworksList()) {
            checkName("failover network", n);
            if (out.contains(n)) {
                throw invalid("failover network '" + n + "' is named twice; give each network once, in order");
            }
            out.add(n);
        }
        return out;
    }

    /** The export decision as the admin API shows it. */
    public static ExportState exportState(ExportRecord e) {
        return ExportState.newBuilder().setService(e.service()).setNamespace(e.namespace()).setToAll(e.toAll())
                .addAllToMembers(e.toMembers()).setOfferedBy(e.offeredBy() == null ? "" : e.offeredBy())
                .addAllFailoverNetworks(e.failoverNetworks()).addAllToTrustDomains(e.toTrustDomains()).build();
    }
}
