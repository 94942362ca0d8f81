package io.meshfed.controller.connector.kubernetes;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.client.Config;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ClusterList;
import io.meshfed.api.v1.ClusterState;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.RegisterClusterRequest;
import io.meshfed.api.v1.UnregisterClusterRequest;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.membership.MembershipService;
import io.meshfed.controller.model.ClusterRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.PodIdentitiesRecord;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.MemberType;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admin operations on Kubernetes members. The kubeconfig is checked (it must parse and carry credentials of its
 * own), sealed under the key-encryption key and never logged; registering again with other credentials is a
 * rotation (the generation increases and the connector is replaced, the old one stopping only after the new one
 * started).
 */
public final class ClusterOperations {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");

    private final Store store;
    private final FederationIdentity identity;
    private final MembershipService membership;
    private final ClusterConnectors connectors;

    public ClusterOperations(Store store, FederationIdentity identity, MembershipService membership,
            ClusterConnectors connectors) {
        this.store = requireNonNull(store, "store");
        this.identity = requireNonNull(identity, "identity");
        this.membership = requireNonNull(membership, "membership");
        this.connectors = requireNonNull(connectors, "connectors");
    }

    public ClusterState register(RegisterClusterRequest r) {
        if (r.getNetwork().isEmpty()) {
            throw invalid("cluster '" + r.getName() + "' needs a network");
        }
        if (r.getKubeconfig().isBlank()) {
            throw invalid("cluster '" + r.getName() + "' needs the connector's kubeconfig");
        }
        Config config;
        try {
            ConnectorKubeconfig.checkInline(r.getKubeconfig());
            config = Config.fromKubeconfig(r.getKubeconfig());
        } catch (RuntimeException e) {
            throw invalid("the kubeconfig of cluster '" + r.getName() + "' cannot be read: " + e.getMessage());
        }
        if (config.getMasterUrl() == null || config.getMasterUrl().isBlank()) {
            throw invalid("the kubeconfig of cluster '" + r.getName() + "' names no API server");
        }
        if (blank(config.getOauthToken()) && blank(config.getAutoOAuthToken()) && blank(config.getClientCertData()) && blank(config.getClientCertFile())) {
            throw invalid("the kubeconfig of cluster '" + r.getName() + "' carries no credentials (a token or a"
                    + " client certificate)");
        }
        membership.createNetwork(CreateNetworkRequest.newBuilder().setName(r.getNetwork())
                .setGatewayAddress(r.getGatewayAddress()).setTunnelAddress(r.getTunnelAddress()).build());
        membership.addConnectedMember(AddMemberRequest.newBuilder().setName(r.getName())
                .setNetwork(r.getNetwork()).setTrustDomain(r.getTrustDomain()).addAllCidrs(r.getCidrsList()).build(), MemberType.KUBERNETES);
        MemberRecord member = Records.get(store, Kind.MEMBER, r.getName(), MemberRecord.class).orElseThrow();
        String purpose = ClusterRecord.purpose(r.getName());
        String sealed = identity.secrets().seal(r.getKubeconfig(), purpose);
        ClusterRecord record = store.transact(tx -> {
            var existing = Records.get(tx, Kind.CLUSTER, r.getName(), ClusterRecord.class);
            if (existing.isPresent() && identity.secrets().open(existing.get().sealedKubeconfig(), purpose)
                    .equals(r.getKubeconfig()) && existing.get().server().equals(config.getMasterUrl())) {
                return existing.get(); // join run again with the same credentials
            }
            long generation = existing.map(c -> c.generation() + 1).orElse(1L);
            ClusterRecord c = new ClusterRecord(r.getName(), member.network(), member.trustDomain(),
                    config.getMasterUrl(), sealed, generation);
            Records.put(tx, Kind.CLUSTER, c.name(), c, StoreTransaction.ANY);
            return c;
        });
        AUDIT.info("cluster {} registered: server {} network {} credentials generation {}", record.name(),
                record.server(), record.network(), record.generation());
        return connectors.status(record.name()).filter(s -> s.getCredentialsGeneration() == record.generation())
                .orElse(ClusterState.newBuilder().setName(record.name()).setNetwork(record.network())
                        .setTrustDomain(record.trustDomain()).setServer(record.server()).setState("connecting")
                        .setCredentialsGeneration(record.generation()).build());
    }

    /** Removes the cluster, its endpoints, its pod identities, its gateways and the member; the connector stops. */
    public ClusterState unregister(UnregisterClusterRequest r) {
        ClusterRecord record = Records.get(store, Kind.CLUSTER, r.getName(), ClusterRecord.class).orElseThrow(() ->
                new NotFoundException("no cluster '" + r.getName() + "'; see meshfed cluster list"));
        store.transact(tx -> {
            tx.delete(Kind.CLUSTER.storeName(), record.name(), StoreTransaction.ANY);
            for (int shard = 0; shard < PodIdentitiesRecord.SHARDS; shard++) {
                tx.delete(Kind.POD_IDENTITIES.storeName(), PodIdentitiesRecord.key(record.name(), shard),
                        StoreTransaction.ANY);
            }
            MembershipService.removeConnectedMember(tx, record.name(), record.network(),
                    ClusterRecord.workloadSetKey(record.name()), connectors.ports());
            return null;
        });
        AUDIT.info("cluster {} unregistered: member, endpoints and credentials removed", record.name());
        return ClusterState.newBuilder().setName(record.name()).setNetwork(record.network())
                .setTrustDomain(record.trustDomain()).setServer(record.server()).setState("removed")
                .setCredentialsGeneration(record.generation()).build();
    }

    public ClusterList list() {
        return ClusterList.newBuilder().addAllClusters(connectors.status()).build();
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static InvalidArgumentException invalid(String message) {
        return new InvalidArgumentException(message);
    }
}
