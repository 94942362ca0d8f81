package io.meshfed.controller.join;

import static java.util.Objects.requireNonNull;

import io.grpc.stub.StreamObserver;
import io.meshfed.api.DnsLabel;
import io.meshfed.api.v1.JoinRequest;
import io.meshfed.api.v1.JoinResponse;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.RenewRequest;
import io.meshfed.api.v1.RenewResponse;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.GatewayRecord;
import io.meshfed.controller.model.IdentityRecord;
import io.meshfed.controller.model.JoinTokenRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.ServiceScope;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.server.PeerIdentity;
import io.meshfed.controller.server.Protos;
import io.meshfed.controller.store.ConflictException;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.ca.IssuancePolicy;
import io.meshfed.trust.ca.IssuanceRefusedException;
import io.meshfed.trust.ca.IssuedSvid;
import io.meshfed.trust.ca.SvidRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Join (token + CSR → SVID + bundles) and Renew (mTLS + CSR → SVID). Every refusal returns its reason to the joiner
 * and writes one audit line; no line ever contains a token secret.
 */
public final class JoinServiceImpl extends JoinServiceGrpc.JoinServiceImplBase {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");
    public static final Duration DEFAULT_SVID_TTL = SvidLifetimes.DEFAULT_TTL;
    public static final Duration MIN_SVID_TTL = Duration.ofHours(1);

    private final Store store;
    private final FederationIdentity identity;
    private final TrustState trust;
    private final ControllerMetrics metrics;
    private final Supplier<List<String>> controllerAddresses;
    private final Clock clock;
    private final SvidLifetimes lifetimes;

    public JoinServiceImpl(Store store, FederationIdentity identity, TrustState trust, ControllerMetrics metrics,
            Supplier<List<String>> controllerAddresses, SvidLifetimes lifetimes, Clock clock) {
        this.lifetimes = requireNonNull(lifetimes, "lifetimes");
        this.store = requireNonNull(store, "store");
        this.identity = requireNonNull(identity, "identity");
        this.trust = requireNonNull(trust, "trust");
        this.metrics = requireNonNull(metrics, "metrics");
        this.controllerAddresses = requireNonNull(controllerAddresses, "controllerAddresses");
        this.clock = requireNonNull(clock, "clock");
    }

    @Override
    public void join(JoinRequest request, StreamObserver<JoinResponse> response) {
        String tokenId = "-";
        try {
            JoinTokens.Parsed token = JoinTokens.parse(request.getToken());
            tokenId = token.id();
            Resource stored = store.get(Kind.JOIN_TOKEN.storeName(), token.id()).orElseThrow(() -> new JoinRefusal(
                    JoinRefusal.Reason.INVALID_TOKEN, "the join token is not valid (unknown or forged)"));
            JoinTokenRecord record = Records.fromJson(stored, JoinTokenRecord.class);
            check(token, record, request);
            MemberRecord member = Records.get(store, Kind.MEMBER, record.member(), MemberRecord.class)
                    .orElseThrow(() -> new JoinRefusal(JoinRefusal.Reason.UNKNOWN_MEMBER,
                            "member " + record.member() + " no longer exists"));
            SpiffeId id = spiffeIdFor(request, member, record.scope());
            refuseExisting(id);
            checkAdvertisedAddresses(request, member);
            Issued issued = issue(request.getCsr().toByteArray(), id, request.getTtlSeconds());
            try {
                store.transact(tx -> {
                    if (tx.get(Kind.IDENTITY.storeName(), id.toString()).isPresent()) {
                        throw new IdentityTaken(); // joined (or was revoked) since the check above
                    }
                    Records.put(tx, Kind.JOIN_TOKEN, record.id(),
                            record.markUsed(clock.millis(), id.toString()), stored.revision());
                    MemberRecord current = Records.get(tx, Kind.MEMBER, member.name(), MemberRecord.class)
                            .orElse(member);
                    Records.put(tx, Kind.MEMBER, member.name(), current.withIdentity(id.toString()),
                            StoreTransaction.ANY);
                    Records.put(tx, Kind.IDENTITY, id.toString(), new IdentityRecord(id.toString(), member.name(),
                            request.getRole().name(), record.scope(), clock.millis(), 0), StoreTransaction.ANY);
                    if (request.getRole() != Role.ROLE_AGENT) {
                        Records.put(tx, Kind.GATEWAY, id.toString(), new GatewayRecord(id.toString(),
                                request.getRole().name(), member.name(), member.network(),
                                request.getAdvertisedAddressesList(), false), StoreTransaction.ANY);
                    }
                    return null;
                });
            } catch (ConflictException e) {
                throw new JoinRefusal(JoinRefusal.Reason.TOKEN_USED, "the join token was used by another joiner"
                        + " at the same moment");
            } catch (IdentityTaken e) {
                refuseExisting(id);
                throw new IllegalStateException(id + " was recorded and is gone again"); // not reached
            }
            metrics.join(true, "joined");
            AUDIT.info("join accepted: token={} member={} role={} id={} serial={} {}", tokenId, member.name(),
                    request.getRole(), id, issued.leaf().getSerialNumber().toString(16), issued.describeTtl());
            response.onNext(JoinResponse.newBuilder()
                    .setSpiffeId(id.toString())
                    .addAllSvidChain(Protos.der(issued.chain()))
                    .setBundles(Protos.bundleSet(trust.bundleSet(store)))
                    .addAllControllerAddresses(controllerAddresses.get())
                    .setTtlSeconds(issued.grant().ttl().toSeconds()).setTtlCapped(issued.grant().capped())
                    .build());
            response.onCompleted();
        } catch (JoinRefusal refusal) {
            metrics.join(false, refusal.reason().label());
            AUDIT.warn("join refused: token={} member={} role={} name={} reason={}: {}", tokenId,
                    request.getMember(), request.getRole(), request.getName(), refusal.reason().label(),
                    refusal.getMessage());
            response.onError(refusal.toStatus());
        }
    }

    private void check(JoinTokens.Parsed token, JoinTokenRecord record, JoinRequest request) throws JoinRefusal {
        if (!JoinTokens.secretMatches(record, token.secret())) {
            throw new JoinRefusal(JoinRefusal.Reason.INVALID_TOKEN, "the join token is not valid (unknown or forged)");
        }
        if (record.used()) {
            throw new JoinRefusal(JoinRefusal.Reason.TOKEN_USED, "the join token was already used at "
                    + java.time.Instant.ofEpochMilli(record.usedAtMillis()) + "; tokens are single use, create a new one");
        }
        if (clock.millis() > record.expiresAtMillis()) {
            throw new JoinRefusal(JoinRefusal.Reason.TOKEN_EXPIRED, "the join token expired at "
                    + java.time.Instant.ofEpochMilli(record.expiresAtMillis()) + "; create a new one");
        }
        if (!record.role().equals(request.getRole().name())) {
            throw new JoinRefusal(JoinRefusal.Reason.WRONG_ROLE, "the join token is for role "
                    + Protos.roleLabel(record.role()) + ", not " + Protos.roleLabel(request.getRole().name()));
        }
        if (!request.getMember().isEmpty() && !record.member().equals(request.getMember())) {
            throw new JoinRefusal(JoinRefusal.Reason.WRONG_MEMBER, "the join token is for member " + record.member()
                    + ", not " + request.getMember());
        }
    }

    /**
     * The advertised addresses a gateway (or edge) is recorded with: at most 16, each HOST:PORT and inside its
     * member's CIDRs when it has some. An agent's are not recorded, so not checked.
     */
    private static void checkAdvertisedAddresses(JoinRequest request, MemberRecord member) throws JoinRefusal {
        if (request.getRole() == Role.ROLE_AGENT) {
            return;
        }
        if (request.getAdvertisedAddressesCount() > io.meshfed.controller.catalog.RegistrationServiceImpl
                .MAX_GATEWAY_ADDRESSES) {
            throw new JoinRefusal(JoinRefusal.Reason.ADDRESS_REFUSED, "a gateway may advertise at most "
                    + io.meshfed.controller.catalog.RegistrationServiceImpl.MAX_GATEWAY_ADDRESSES + " addresses");
        }
        var allowed = io.meshfed.controller.catalog.MemberAddresses.of(member);
        for (String a : request.getAdvertisedAddressesList()) {
            var refusal = allowed.refusal(a);
            if (refusal.isPresent()) {
                throw new JoinRefusal(JoinRefusal.Reason.ADDRESS_REFUSED, refusal.get());
            }
        }
    }

    /**
     * The one SPIFFE ID a joiner of this role and name may have in its member's trust domain. An agent's namespace
     * is the one its token's scope binds (an empty request namespace takes it); any other is refused.
     */
    static SpiffeId spiffeIdFor(JoinRequest request, MemberRecord member, ServiceScope scope) throws JoinRefusal {
        TrustDomain td = TrustDomain.parse(member.trustDomain());
        String name = request.getName();
        try {
            return switch (request.getRole()) {
                case ROLE_GATEWAY -> MeshfedIds.gateway(td, name);
                case ROLE_EDGE -> MeshfedIds.edge(td, name);
                case ROLE_AGENT -> MeshfedIds.agent(td, agentNamespace(request, scope), name);
                default -> throw new JoinRefusal(JoinRefusal.Reason.WRONG_ROLE, "the join request names no role");
            };
        } catch (IllegalArgumentException e) { // the name is not one path segment, or has a character SPIFFE refuses
            throw new JoinRefusal(JoinRefusal.Reason.BAD_NAME, e.getMessage());
        }
    }

    private static String agentNamespace(JoinRequest request, ServiceScope scope) throws JoinRefusal {
        String namespace = request.getNamespace();
        if (!namespace.isEmpty() && !DnsLabel.matches(namespace)) {
            throw new JoinRefusal(JoinRefusal.Reason.BAD_NAME, "namespace '" + namespace + "' " + DnsLabel.RULE);
        }
        if (scope == null) {
            throw new JoinRefusal(JoinRefusal.Reason.WRONG_ROLE, "the join token grants no service scope; create an"
                    + " agent token with --service or --namespace");
        }
        if (!namespace.isEmpty() && !namespace.equals(scope.namespace())) {
            throw new JoinRefusal(JoinRefusal.Reason.WRONG_NAMESPACE, "the join token is for namespace "
                    + scope.namespace() + ", not " + namespace);
        }
        return scope.namespace();
    }

    /** An issued SVID with the lifetime it was given. */
    private record Issued(IssuedSvid svid, SvidLifetimes.Grant grant) {
        java.security.cert.X509Certificate leaf() {
            return svid.leaf();
        }

        List<java.security.cert.X509Certificate> chain() {
            return svid.chain();
        }

        /** For the audit line: the lifetime, and when it was capped, that it was. */
        String describeTtl() {
            return "ttl=" + io.meshfed.api.Durations.format(grant.ttl()) + (grant.capped()
                    ? " (capped: more was asked than the trust domain's maximum)" : "");
        }
    }

    /**
     * Issues for {@code id}, for the lifetime asked ({@code ttlSeconds}; 0 for the default) up to the maximum of
     * its trust domain: a longer request gets the maximum.
     */
    private Issued issue(byte[] csr, SpiffeId id, long ttlSeconds) throws JoinRefusal {
        SvidLifetimes.Grant grant = lifetimes.grant(id.trustDomain(), ttlSeconds);
        if (grant.ttl().compareTo(MIN_SVID_TTL) < 0) {
            throw new JoinRefusal(JoinRefusal.Reason.CSR_REFUSED, "SVID lifetime must be at least 1h, asked for "
                    + grant.ttl());
        }
        try {
            return new Issued(trust.issuer(store, id.trustDomain()).issue(SvidRequest.of(csr, id, grant.ttl()),
                    IssuancePolicy.exactly(id)), grant);
        } catch (IssuanceRefusedException e) {
            throw new JoinRefusal(JoinRefusal.Reason.CSR_REFUSED, e.getMessage());
        } catch (io.meshfed.trust.ca.CaUnavailableException e) {
            // The CA backend (Vault) cannot sign now: nothing is wrong with the request; SVIDs issued keep working.
            throw new io.meshfed.controller.errors.UnavailableException("the CA of " + id.trustDomain().name()
                    + " cannot issue now: " + e.getMessage() + "; retry later", e);
        }
    }

    /** A revoked identity never comes back under the same SPIFFE ID: a stolen SVID of it must stay refused. */
    /** The identity's record is written in the join's transaction; seeing one there means another join won. */
    private static final class IdentityTaken extends RuntimeException {
        private static final long serialVersionUID = 1L;

        IdentityTaken() {
            super(null, null, false, false);
        }
    }

    /**
     * An identity joins once: a second token of the same member must not take over a joined SPIFFE ID (the one its
     * endpoints and routes pin), nor bring back a revoked one.
     */
    private void refuseExisting(SpiffeId id) throws JoinRefusal {
        var record = Records.get(store, Kind.IDENTITY, id.toString(), IdentityRecord.class);
        if (record.isPresent() && record.get().revoked()) {
            throw new JoinRefusal(JoinRefusal.Reason.REVOKED, id + " was revoked at "
                    + java.time.Instant.ofEpochMilli(record.get().revokedAtMillis()) + " and cannot join again;"
                    + " join under another name");
        }
        if (record.isPresent()) {
            throw new JoinRefusal(JoinRefusal.Reason.ALREADY_JOINED, id + " joined at "
                    + java.time.Instant.ofEpochMilli(record.get().joinedAtMillis()) + "; another joiner may not"
                    + " take over its identity. Join under another name, or revoke it first with meshfed identity"
                    + " revoke and join under another name");
        }
    }

    /** Only an identity that joined and is not revoked may renew. */
    private void checkJoinedAndNotRevoked(SpiffeId peer) throws JoinRefusal {
        IdentityRecord record = Records.get(store, Kind.IDENTITY, peer.toString(), IdentityRecord.class)
                .orElseThrow(() -> new JoinRefusal(JoinRefusal.Reason.NOT_JOINED, peer + " never joined (the"
                        + " controller has no record of its join) and cannot renew; join it with a token from"
                        + " 'meshfed token create'"));
        if (record.revoked()) {
            throw new JoinRefusal(JoinRefusal.Reason.REVOKED, peer + " was revoked at "
                    + java.time.Instant.ofEpochMilli(record.revokedAtMillis()) + " and cannot renew; join again"
                    + " under another name with a new token");
        }
    }

    @Override
    public void renew(RenewRequest request, StreamObserver<RenewResponse> response) {
        SpiffeId peer = PeerIdentity.required();
        try {
            if (TrustState.memberOf(store, peer.trustDomain()).isEmpty()) {
                throw new JoinRefusal(JoinRefusal.Reason.NOT_A_MEMBER, peer + " belongs to no member");
            }
            checkJoinedAndNotRevoked(peer);
            Issued issued = issue(request.getCsr().toByteArray(), peer, request.getTtlSeconds());
            metrics.join(true, "renewed");
            AUDIT.info("renew accepted: id={} serial={} {}", peer, issued.leaf().getSerialNumber().toString(16),
                    issued.describeTtl());
            response.onNext(RenewResponse.newBuilder().addAllSvidChain(Protos.der(issued.chain()))
                    .setBundles(Protos.bundleSet(trust.bundleSet(store)))
                    .setTtlSeconds(issued.grant().ttl().toSeconds()).setTtlCapped(issued.grant().capped()).build());
            response.onCompleted();
        } catch (JoinRefusal refusal) {
            metrics.join(false, refusal.reason().label());
            AUDIT.warn("renew refused: id={} reason={}: {}", peer, refusal.reason().label(), refusal.getMessage());
            response.onError(refusal.toStatus());
        }
    }
}
