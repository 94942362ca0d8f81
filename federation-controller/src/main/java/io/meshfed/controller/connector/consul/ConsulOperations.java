package io.meshfed.controller.connector.consul;

import static java.util.Objects.requireNonNull;

import com.ecwid.consul.SingleUrlParameters;
import com.ecwid.consul.transport.HttpResponse;
import com.ecwid.consul.v1.OperationException;
import io.meshfed.api.ConsulNames;
import io.meshfed.api.HostPort;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConsulList;
import io.meshfed.api.v1.ConsulState;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.RegisterConsulRequest;
import io.meshfed.api.v1.UnregisterConsulRequest;
import io.meshfed.controller.errors.FailedPreconditionException;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.membership.MembershipService;
import io.meshfed.controller.model.ConsulRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.MemberType;
import io.meshfed.controller.model.NetworkRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admin operations on Consul members. Before anything is stored, registering checks, from the controller (which is
 * what will talk to the agent): that the agent answers, that the datacenter is one it knows (default: its own, the
 * first {@code /v1/catalog/datacenters} lists), that the token is known ({@code /v1/acl/token/self}), and that it
 * may write the synthetic node {@code meshfed-gateway-<network>} that imports are published on, by registering that
 * node. Each failure is one line naming what is missing (for a token, the rule to add; see
 * {@code meshfed consul render-policy}). The token is sealed under the key-encryption key and never logged. The same settings again
 * change nothing; other settings replace the connector (the generation increases).
 */
public final class ConsulOperations {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");
    private static final Duration CHECK_WAIT = Duration.ofSeconds(5);

    private final Store store;
    private final FederationIdentity identity;
    private final MembershipService membership;
    private final ConsulConnectors connectors;

    public ConsulOperations(Store store, FederationIdentity identity, MembershipService membership,
            ConsulConnectors connectors) {
        this.store = requireNonNull(store, "store");
        this.identity = requireNonNull(identity, "identity");
        this.membership = requireNonNull(membership, "membership");
        this.connectors = requireNonNull(connectors, "connectors");
    }

    public ConsulState register(RegisterConsulRequest r) {
        String name = r.getName();
        if (r.getNetwork().isEmpty()) {
            throw invalid("Consul member '" + name + "' needs a network (--network)");
        }
        URI address = address(r.getAddress());
        String namespaceFrom = r.getNamespaceFrom().isEmpty() ? "tag" : r.getNamespaceFrom();
        try {
            NamespaceFrom.parse(namespaceFrom);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        String gatewayAddress = r.getGatewayAddress();
        if (!gatewayAddress.isEmpty()) {
            try {
                HostPort.parse(gatewayAddress);
            } catch (IllegalArgumentException e) {
                throw invalid("--gateway-address '" + gatewayAddress + "' " + HostPort.RULE);
            }
        } else {
            gatewayAddress = Records.get(store, Kind.NETWORK, r.getNetwork(), NetworkRecord.class)
                    .map(NetworkRecord::gatewayAddress).orElse("");
            if (gatewayAddress == null || gatewayAddress.isEmpty()) {
                throw new FailedPreconditionException("network '" + r.getNetwork() + "' has no gateway address:"
                        + " pass --gateway-address HOST:PORT (the east-west gateway through which the datacenter's"
                        + " clients reach imported services and other networks reach its services)");
            }
        }
        List<String> checks = new ArrayList<>();
        String datacenter = check(address, r, gatewayAddress, checks);

        membership.createNetwork(CreateNetworkRequest.newBuilder().setName(r.getNetwork())
                .setGatewayAddress(r.getGatewayAddress()).setTunnelAddress(r.getTunnelAddress()).build());
        membership.addConnectedMember(AddMemberRequest.newBuilder().setName(name).setNetwork(r.getNetwork())
                .setTrustDomain(r.getTrustDomain()).addAllCidrs(r.getCidrsList()).build(), MemberType.CONSUL);
        MemberRecord member = Records.get(store, Kind.MEMBER, name, MemberRecord.class).orElseThrow();
        String purpose = ConsulRecord.purpose(name);
        String sealed = r.getToken().isEmpty() ? "" : identity.secrets().seal(r.getToken(), purpose);
        ConsulRecord record = store.transact(tx -> {
            var existing = Records.get(tx, Kind.CONSUL, name, ConsulRecord.class);
            if (existing.isPresent() && same(existing.get(), address.toString(), datacenter, r, namespaceFrom,
                    purpose)) {
                return existing.get(); // join run again with the same settings
            }
            long generation = existing.map(c -> c.generation() + 1).orElse(1L);
            ConsulRecord c = new ConsulRecord(name, member.network(), member.trustDomain(), address.toString(),
                    datacenter, sealed, r.getCaPem(), namespaceFrom, generation);
            Records.put(tx, Kind.CONSUL, name, c, StoreTransaction.ANY);
            return c;
        });
        AUDIT.info("consul member {} registered: agent {} datacenter {} network {} generation {}", record.name(),
                record.address(), record.datacenter(), record.network(), record.generation());
        ConsulState state = connectors.status(name).filter(s -> s.getGeneration() == record.generation())
                .orElse(ConsulState.newBuilder().setName(name).setNetwork(record.network())
                        .setTrustDomain(record.trustDomain()).setAddress(record.address())
                        .setDatacenter(record.datacenter()).setState("connecting")
                        .setGeneration(record.generation()).build());
        return state.toBuilder().clearChecks().addAllChecks(checks).build();
    }

    private boolean same(ConsulRecord e, String address, String datacenter, RegisterConsulRequest r,
            String namespaceFrom, String purpose) {
        String token = e.sealedToken().isEmpty() ? "" : identity.secrets().open(e.sealedToken(), purpose);
        return e.address().equals(address) && e.datacenter().equals(datacenter) && token.equals(r.getToken())
                && e.caPem().equals(r.getCaPem()) && e.namespaceFrom().equals(namespaceFrom);
    }

    /** Checks the agent, the datacenter and the token; returns the datacenter. Adds one line per check passed. */
    private String check(URI address, RegisterConsulRequest r, String gatewayAddress, List<String> checks) {
        ConsulConnection probe;
        try {
            probe = ConsulConnection.open(address, r.getCaPem(), CHECK_WAIT);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        try (probe) {
            List<String> datacenters;
            try {
                datacenters = probe.client().getCatalogDatacenters().getValue();
            } catch (RuntimeException e) {
                throw new FailedPreconditionException("the Consul agent at " + address + " does not answer: "
                        + ConsulCatalogWatch.reason(e));
            }
            if (datacenters == null || datacenters.isEmpty()) {
                throw new FailedPreconditionException("the Consul agent at " + address + " lists no datacenter");
            }
            String datacenter = r.getDatacenter().isEmpty() ? datacenters.get(0) : r.getDatacenter();
            if (!datacenters.contains(datacenter)) {
                throw new FailedPreconditionException("datacenter '" + datacenter + "' is not known to the Consul"
                        + " agent at " + address + " (it knows " + String.join(", ", datacenters) + ")");
            }
            checks.add("agent " + address + " answers; datacenter " + datacenter
                    + (r.getDatacenter().isEmpty() ? " (the agent's own)" : ""));
            checks.add(tokenCheck(probe, r.getToken()));
            ImportPublisher publisher = new ImportPublisher(probe.client(), r.getToken(), datacenter, r.getNetwork(),
                    r.getName());
            try {
                publisher.registerNode(HostPort.parse(gatewayAddress).getHostString());
            } catch (OperationException e) {
                if (e.getStatusCode() == 403) {
                    throw new FailedPreconditionException("the Consul token may not write node '"
                            + publisher.node() + "', which imports are published on: add the rule "
                            + ConsulNames.nodeRule(r.getNetwork()) + " (meshfed consul render-policy --network "
                            + r.getNetwork() + " prints the whole policy); Consul said: "
                            + ConsulCatalogWatch.reason(e));
                }
                throw new FailedPreconditionException("registering node '" + publisher.node() + "' failed: "
                        + ConsulCatalogWatch.reason(e));
            } catch (RuntimeException e) {
                throw new FailedPreconditionException("registering node '" + publisher.node() + "' failed: "
                        + ConsulCatalogWatch.reason(e));
            }
            checks.add("token may write node " + publisher.node() + " (imports are published there)");
            return datacenter;
        }
    }

    private static String tokenCheck(ConsulConnection probe, String token) {
        HttpResponse self;
        try {
            self = token.isEmpty() ? probe.raw().makeGetRequest("/v1/acl/token/self")
                    : probe.raw().makeGetRequest("/v1/acl/token/self", new SingleUrlParameters("token", token));
        } catch (RuntimeException e) {
            throw new FailedPreconditionException("reading the token (/v1/acl/token/self) failed: "
                    + ConsulCatalogWatch.reason(e));
        }
        String body = self.getContent() == null ? "" : self.getContent().strip();
        if (self.getStatusCode() == 200) {
            return "token known to Consul (/v1/acl/token/self)";
        }
        if (self.getStatusCode() == 401 && body.toLowerCase(Locale.ROOT).contains("acl support disabled")) {
            return token.isEmpty() ? "ACLs are disabled in the datacenter: no token needed"
                    : "ACLs are disabled in the datacenter: the token is not needed (kept for when they are on)";
        }
        if (self.getStatusCode() == 403 && token.isEmpty()) {
            throw new FailedPreconditionException("the datacenter enforces ACLs and no token was given: pass"
                    + " --token-file FILE with a token whose policy meshfed consul render-policy prints");
        }
        if (self.getStatusCode() == 403) {
            throw new FailedPreconditionException("the Consul token was refused (" + limit(body) + "): it is not"
                    + " a token of this datacenter, or it was deleted");
        }
        throw new FailedPreconditionException("/v1/acl/token/self answered HTTP " + self.getStatusCode() + " "
                + limit(body));
    }

    private static String limit(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    private static URI address(String text) {
        if (text.isBlank()) {
            throw invalid("the Consul agent's address is missing (--address http://HOST:8500)");
        }
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw invalid("--address '" + text + "' is not a URL: " + e.getReason());
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                || uri.getHost() == null || (uri.getPath() != null && !uri.getPath().isEmpty()
                        && !uri.getPath().equals("/")) || uri.getQuery() != null || uri.getUserInfo() != null) {
            throw invalid("--address '" + text + "' must be http://HOST:PORT or https://HOST:PORT");
        }
        return URI.create(uri.getScheme() + "://" + uri.getRawAuthority());
    }

    /** Removes the member, its instances and gateways; its connector removes what it published and stops. */
    public ConsulState unregister(UnregisterConsulRequest r) {
        ConsulRecord record = Records.get(store, Kind.CONSUL, r.getName(), ConsulRecord.class).orElseThrow(() ->
                new NotFoundException("no Consul member '" + r.getName() + "'; see meshfed consul list"));
        store.transact(tx -> {
            tx.delete(Kind.CONSUL.storeName(), record.name(), StoreTransaction.ANY);
            MembershipService.removeConnectedMember(tx, record.name(), record.network(),
                    ConsulRecord.workloadSetKey(record.name()), connectors.ports());
            return null;
        });
        AUDIT.info("consul member {} unregistered: member, services and token removed", record.name());
        return ConsulState.newBuilder().setName(record.name()).setNetwork(record.network())
                .setTrustDomain(record.trustDomain()).setAddress(record.address())
                .setDatacenter(record.datacenter()).setState("removed").setGeneration(record.generation()).build();
    }

    public ConsulList list() {
        return ConsulList.newBuilder().addAllMembers(connectors.status()).build();
    }

    private static InvalidArgumentException invalid(String message) {
        return new InvalidArgumentException(message);
    }
}
