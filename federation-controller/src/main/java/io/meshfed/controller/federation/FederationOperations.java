package io.meshfed.controller.federation;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.util.Timestamps;
import io.meshfed.api.v1.DeleteFederationRequest;
import io.meshfed.api.v1.FederateTrustDomainRequest;
import io.meshfed.api.v1.FederationList;
import io.meshfed.api.v1.FederationState;
import io.meshfed.controller.errors.FailedPreconditionException;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.FederationRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.trust.InvalidSpiffeIdException;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.TrustFormatException;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin's SPIFFE federations with outside trust domains: create or update ({@link #federate}, which fetches the
 * bundle at once), list, delete. A federated trust domain's bundle joins the bundle set, so its SVIDs verify at every
 * proxy, but it grants nothing: only an admin's caller policy ({@code authz allow --from spiffe://<td>/...}) lets
 * one of its identities call a service. The federation's own trust domain and members' trust domains cannot be
 * federated, so a foreign endpoint never replaces or adds to their roots.
 */
public final class FederationOperations {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");
    /** The most federations one controller keeps. */
    public static final int MAX_FEDERATIONS = 64;
    /** The most certificates the CA PEM may hold. */
    public static final int MAX_CA_CERTIFICATES = 16;

    private final Store store;
    private final TrustDomain federationTrustDomain;
    private final FederationRefresher refresher;
    private final java.time.Clock clock;

    public FederationOperations(Store store, TrustDomain federationTrustDomain, FederationRefresher refresher,
            java.time.Clock clock) {
        this.clock = requireNonNull(clock, "clock");
        this.store = requireNonNull(store, "store");
        this.federationTrustDomain = requireNonNull(federationTrustDomain, "federationTrustDomain");
        this.refresher = requireNonNull(refresher, "refresher");
    }

    /** Stores the federation (new, or new settings for an existing one) and fetches its bundle now. */
    public FederationState federate(FederateTrustDomainRequest request) {
        TrustDomain td = trustDomain(request.getTrustDomain());
        String url = bundleEndpoint(request.getBundleEndpoint());
        String profile = request.getProfile();
        if (!profile.equals(FederationRecord.PROFILE_WEB) && !profile.equals(FederationRecord.PROFILE_SPIFFE)) {
            throw new InvalidArgumentException("profile: unknown profile '" + profile + "'; use "
                    + FederationRecord.PROFILE_WEB + " or " + FederationRecord.PROFILE_SPIFFE);
        }
        String endpointId = "";
        if (profile.equals(FederationRecord.PROFILE_SPIFFE)) {
            if (request.getEndpointSpiffeId().isEmpty()) {
                throw new InvalidArgumentException("endpoint_spiffe_id: the https_spiffe profile needs the SPIFFE ID"
                        + " the endpoint presents (--endpoint-spiffe-id, e.g. spiffe://" + td + "/spire/server)");
            }
            try {
                endpointId = SpiffeId.parse(request.getEndpointSpiffeId()).toString();
            } catch (InvalidSpiffeIdException e) {
                throw new InvalidArgumentException("endpoint_spiffe_id: " + e.getMessage(), e);
            }
        } else if (!request.getEndpointSpiffeId().isEmpty()) {
            throw new InvalidArgumentException("endpoint_spiffe_id: only the https_spiffe profile authenticates the"
                    + " endpoint by SPIFFE ID; https_web checks its web certificate and host name");
        }
        String caPem = caPem(request.getCaPem());
        if (profile.equals(FederationRecord.PROFILE_SPIFFE) && caPem.isEmpty()) {
            throw new InvalidArgumentException("ca_pem: the https_spiffe profile needs the endpoint trust domain's"
                    + " bundle to start from (--ca-file with its roots, PEM)");
        }
        String endpointIdFinal = endpointId;
        store.transact(tx -> {
            refuseOwn(tx, td);
            Optional<Resource> current = tx.get(Kind.FEDERATION.storeName(), td.name());
            FederationRecord record;
            if (current.isPresent()) {
                record = Records.fromJson(current.get(), FederationRecord.class)
                        .withSettings(url, profile, endpointIdFinal, caPem);
            } else {
                if (Records.list(tx, Kind.FEDERATION, FederationRecord.class).size() >= MAX_FEDERATIONS) {
                    throw new FailedPreconditionException("this controller already federates with "
                            + MAX_FEDERATIONS + " trust domains, the most it keeps; delete one first");
                }
                // Fetched below at once; the refresher's first check is a retry's delay away, so that it neither
                // fetches a second time now nor leaves the federation unfetched if the controller stops before.
                record = new FederationRecord(td.name(), url, profile, endpointIdFinal, caPem, null, 0,
                        FederationRecord.PENDING, "", 0, 0, clock.millis() + FederationRefresher.RETRY.toMillis());
            }
            Records.put(tx, Kind.FEDERATION, td.name(), record,
                    current.map(Resource::revision).orElse(StoreTransaction.ABSENT));
            return null;
        });
        AUDIT.info("federation with {} set: bundle endpoint {} ({})", td, url, profile);
        FederationRecord after = refresher.refreshNow(td.name())
                .or(() -> Records.get(store, Kind.FEDERATION, td.name(), FederationRecord.class))
                .orElseThrow(() -> new NotFoundException("federation with " + td + " was deleted meanwhile"));
        return state(after);
    }

    public FederationList list() {
        return FederationList.newBuilder().addAllFederations(states()).build();
    }

    /** Every federation's state, by trust domain. */
    public List<FederationState> states() {
        return Records.list(store, Kind.FEDERATION, FederationRecord.class).stream()
                .sorted(Comparator.comparing(FederationRecord::trustDomain)).map(FederationOperations::state)
                .toList();
    }

    public FederationState delete(DeleteFederationRequest request) {
        TrustDomain td = trustDomain(request.getTrustDomain());
        FederationRecord deleted = store.transact(tx -> {
            Optional<Resource> current = tx.get(Kind.FEDERATION.storeName(), td.name());
            if (current.isEmpty()) {
                throw new NotFoundException("no federation with trust domain " + td
                        + "; meshfed trust federation list shows them");
            }
            FederationRecord record = Records.fromJson(current.get(), FederationRecord.class);
            tx.delete(Kind.FEDERATION.storeName(), td.name(), current.get().revision());
            if (record.bundleJson() != null) {
                TrustState.bumpBundleSetVersion(tx); // its bundle leaves the set
            }
            return record;
        });
        AUDIT.info("federation with {} deleted", td);
        return state(deleted);
    }

    private void refuseOwn(StoreTransaction tx, TrustDomain td) {
        if (td.equals(federationTrustDomain)) {
            throw new FailedPreconditionException("trust domain " + td + " is this federation's own; only outside"
                    + " trust domains can be federated");
        }
        Optional<MemberRecord> member = TrustState.memberOf(tx, td);
        if (member.isPresent()) {
            throw new FailedPreconditionException("trust domain " + td + " is member " + member.get().name()
                    + "'s; a member's bundle comes from its CA, never from a bundle endpoint");
        }
        if (td.name().endsWith("." + federationTrustDomain.name())) {
            throw new FailedPreconditionException("trust domain " + td + " lies under this federation's own ("
                    + federationTrustDomain + "), where members' trust domains are made; only outside trust domains"
                    + " can be federated");
        }
    }

    private static TrustDomain trustDomain(String text) {
        if (text.isEmpty()) {
            throw new InvalidArgumentException("trust_domain: required (the outside trust domain, e.g."
                    + " spire.partner.example)");
        }
        try {
            return TrustDomain.parse(text.startsWith("spiffe://") ? text.substring("spiffe://".length()) : text);
        } catch (RuntimeException e) {
            throw new InvalidArgumentException("trust_domain: " + e.getMessage(), e);
        }
    }

    private static String bundleEndpoint(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new InvalidArgumentException("bundle_endpoint: '" + text + "' is not a URL: " + e.getMessage(), e);
        }
        if (!"https".equals(uri.getScheme())) {
            throw new InvalidArgumentException("bundle_endpoint: '" + text + "' is not an https URL; a SPIFFE bundle"
                    + " endpoint is served over HTTPS (https://HOST[:PORT]/PATH)");
        }
        if (uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
            throw new InvalidArgumentException("bundle_endpoint: '" + text + "' needs a host and no user info or"
                    + " fragment");
        }
        return uri.toString();
    }

    private static String caPem(String pem) {
        if (pem.isEmpty()) {
            return "";
        }
        List<X509Certificate> certs;
        try {
            certs = Pem.readCertificates(pem);
        } catch (TrustFormatException e) {
            throw new InvalidArgumentException("ca_pem: " + e.getMessage(), e);
        }
        if (certs.isEmpty() || certs.size() > MAX_CA_CERTIFICATES) {
            throw new InvalidArgumentException("ca_pem: " + certs.size() + " certificates; give 1 to "
                    + MAX_CA_CERTIFICATES);
        }
        for (X509Certificate cert : certs) {
            if (cert.getBasicConstraints() < 0) {
                throw new InvalidArgumentException("ca_pem: " + cert.getSubjectX500Principal().getName()
                        + " is not a CA certificate");
            }
        }
        return pem;
    }

    static FederationState state(FederationRecord f) {
        FederationState.Builder b = FederationState.newBuilder().setTrustDomain(f.trustDomain())
                .setBundleEndpoint(f.bundleEndpoint()).setProfile(f.profile())
                .setEndpointSpiffeId(nullToEmpty(f.endpointSpiffeId())).setState(f.state())
                .setLastError(nullToEmpty(f.lastError())).setSequence(f.sequence());
        Optional<TrustBundle> bundle = FederationRefresher.lastGood(f);
        bundle.ifPresent(x -> b.setX509Authorities(x.x509Authorities().size())
                .setJwtAuthorities(x.jwtAuthorities().size()));
        if (f.lastSuccessMillis() > 0) {
            b.setLastSuccess(Timestamps.fromMillis(f.lastSuccessMillis()));
        }
        if (f.lastAttemptMillis() > 0) {
            b.setLastAttempt(Timestamps.fromMillis(f.lastAttemptMillis()));
        }
        if (f.nextRefreshMillis() > 0) {
            b.setNextRefresh(Timestamps.fromMillis(f.nextRefreshMillis()));
        }
        return b.build();
    }


    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
