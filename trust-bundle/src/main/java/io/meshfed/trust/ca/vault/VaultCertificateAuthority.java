package io.meshfed.trust.ca.vault;

import static java.util.Objects.requireNonNull;

import io.github.jopenlibs.vault.SslConfig;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.json.JsonValue;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.TrustFormatException;
import io.meshfed.trust.ca.CaException;
import io.meshfed.trust.ca.CaUnavailableException;
import io.meshfed.trust.ca.CertificateAuthority;
import io.meshfed.trust.ca.CsrValidator;
import io.meshfed.trust.ca.IssuancePolicy;
import io.meshfed.trust.ca.IssuanceRefusedException;
import io.meshfed.trust.ca.IssuanceRefusedException.Reason;
import io.meshfed.trust.ca.IssuedSvid;
import io.meshfed.trust.ca.SvidRequest;
import java.security.PublicKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A trust domain's CA in Vault's PKI secrets engine, through vault-java-driver: the controller checks a request with
 * the same {@link CsrValidator} as every backend, then asks Vault to sign the requester's CSR ({@code
 * <mount>/sign/<role>}), so no private key is ever in the controller, neither the requester's nor the CA's. The role
 * must confine URI SANs to the trust domain ({@code allowed_uri_sans = ["spiffe://<td>/*"]}) and mark leaves
 * CA:FALSE ({@code basic_constraints_valid_for_non_ca = true}, as the X.509-SVID profile wants); a role that allows
 * URI SANs outside the trust domain, or none, is refused when the backend is configured. The chain comes from {@code <mount>/cert/ca_chain}
 * and must end in a self-signed root. The lifetime is capped by the chain's expiry before Vault is asked (so
 * Vault's own "beyond the CA's expiry" error never happens and the cap is reported), and what Vault answers is
 * checked: the leaf must carry exactly the requested ID and the requester's key, and verify under the chain.
 * Vault unreachable, sealed, or refusing the controller's token: {@link CaUnavailableException}; Vault refusing the
 * request itself: {@link IssuanceRefusedException} with {@link Reason#BACKEND_REFUSED} and Vault's reason.
 */
public final class VaultCertificateAuthority implements CertificateAuthority {
    /** The backend's name in configuration. */
    public static final String BACKEND = "vault";

    private static final io.github.jopenlibs.vault.EnvironmentLoader NO_ENVIRONMENT =
            new io.github.jopenlibs.vault.EnvironmentLoader() {
                private static final long serialVersionUID = 1L;

                @Override
                public String loadVariable(String name) {
                    return null;
                }
            };

    private final TrustDomain trustDomain;
    private final VaultSettings settings;
    private final VaultSession session;
    private final CsrValidator validator;
    private final Clock clock;
    private volatile Chain chain;

    private record Chain(List<X509Certificate> signing, X509Certificate root, Instant notBefore, Instant notAfter) {}

    private VaultCertificateAuthority(TrustDomain trustDomain, VaultSettings settings, VaultSession session,
            Clock clock) {
        this.trustDomain = trustDomain;
        this.settings = settings;
        this.session = session;
        this.validator = new CsrValidator(trustDomain);
        this.clock = clock;
    }

    /**
     * Logs in, checks the role and reads the chain.
     *
     * @throws CaException when Vault cannot be used for this trust domain (unreachable, credentials refused, no such
     *     mount or role, a role that allows other URI SANs, a chain without its root); the message says which
     */
    public static VaultCertificateAuthority connect(TrustDomain trustDomain, VaultSettings settings, Clock clock) {
        requireNonNull(trustDomain, "trustDomain");
        requireNonNull(settings, "settings");
        requireNonNull(clock, "clock");
        VaultSession session = new VaultSession(settings, config(settings), clock);
        try {
            session.login();
        } catch (CaUnavailableException e) {
            throw new CaException(e.getMessage(), e);
        }
        VaultCertificateAuthority ca = new VaultCertificateAuthority(trustDomain, settings, session, clock);
        ca.checkRole();
        try {
            ca.chain = ca.readChain();
        } catch (CaUnavailableException e) {
            throw new CaException(e.getMessage(), e);
        }
        return ca;
    }

    private static VaultConfig config(VaultSettings s) {
        try {
            // No environment: the controller's own VAULT_TOKEN or VAULT_ADDR must never stand in for a trust
            // domain's settings.
            VaultConfig c = new VaultConfig().environmentLoader(NO_ENVIRONMENT).address(s.address().toString())
                    .engineVersion(1).openTimeout((int) Math.max(1, s.timeout().toSeconds()))
                    .readTimeout((int) Math.max(1, s.timeout().toSeconds()));
            c.sslConfig(s.caPem().isBlank() ? new SslConfig().verify(true).build()
                    : new SslConfig().pemUTF8(s.caPem()).verify(true).build());
            return c.build();
        } catch (VaultException e) {
            throw new CaException("cannot configure the Vault client for " + s.address() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public TrustDomain trustDomain() {
        return trustDomain;
    }

    @Override
    public String backend() {
        return BACKEND;
    }

    @Override
    public List<X509Certificate> rootCertificates() {
        return List.of(chain.root());
    }

    @Override
    public List<X509Certificate> signingChain() {
        return chain.signing();
    }

    @Override
    public IssuedSvid issue(SvidRequest request, IssuancePolicy policy) throws IssuanceRefusedException {
        PublicKey key = validator.validate(request, policy);
        SpiffeId id = request.spiffeId();
        Chain c = chain;
        Instant now = clock.instant();
        if (now.isAfter(c.notAfter()) || now.isBefore(c.notBefore())) {
            throw new IssuanceRefusedException(Reason.CA_NOT_VALID, "the CA of " + trustDomain + " in Vault is valid"
                    + " only from " + c.notBefore() + " to " + c.notAfter() + "; now is " + now);
        }
        Duration ttl = request.ttl();
        boolean capped = now.plus(ttl).isAfter(c.notAfter());
        if (capped) {
            ttl = Duration.between(now, c.notAfter());
        }
        Map<String, Object> body = new HashMap<>();
        try {
            body.put("csr", Pem.writeCsr(new org.bouncycastle.pkcs.PKCS10CertificationRequest(request.csrDer())));
        } catch (java.io.IOException e) {
            throw new IssuanceRefusedException(Reason.MALFORMED_CSR, "the CSR cannot be encoded: " + e.getMessage());
        }
        body.put("uri_sans", id.toString());
        body.put("ttl", Math.max(1, ttl.toSeconds()) + "s");
        body.put("format", "pem");
        body.put("exclude_cn_from_sans", true);
        LogicalResponse answer = session.write(settings.mount() + "/sign/" + settings.role(), body);
        String pem = answer.getData().get("certificate");
        if (pem == null || pem.isBlank()) {
            throw new CaUnavailableException("Vault at " + settings.address() + " answered " + settings.mount()
                    + "/sign/" + settings.role() + " without a certificate");
        }
        X509Certificate leaf;
        try {
            List<X509Certificate> certs = Pem.readCertificates(pem);
            leaf = certs.get(0);
        } catch (TrustFormatException | IndexOutOfBoundsException e) {
            throw new CaUnavailableException("Vault's certificate for " + id + " cannot be read: " + e.getMessage(), e);
        }
        checkAnswer(leaf, id, key, c);
        List<X509Certificate> out = new ArrayList<>(c.signing().size() + 1);
        out.add(leaf);
        out.addAll(c.signing());
        return new IssuedSvid(id, out, capped || leaf.getNotAfter().toInstant().isBefore(now.plus(request.ttl())
                .minusSeconds(1)));
    }

    /** What Vault signed must be what was asked: this ID only, the requester's key, under the chain. */
    private void checkAnswer(X509Certificate leaf, SpiffeId id, PublicKey key, Chain c) {
        List<String> uris = new ArrayList<>();
        try {
            if (leaf.getSubjectAlternativeNames() != null) {
                for (List<?> san : leaf.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(6).equals(san.get(0))) {
                        uris.add(String.valueOf(san.get(1)));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new CaUnavailableException("Vault's certificate for " + id + " has unreadable SANs", e);
        }
        if (!uris.equals(List.of(id.toString()))) {
            throw new CaUnavailableException("Vault signed " + uris + " when " + id + " was asked; the certificate is"
                    + " not handed out (check the role's URI SAN settings)");
        }
        if (!leaf.getPublicKey().equals(key)) {
            throw new CaUnavailableException("Vault's certificate for " + id + " does not carry the requester's key");
        }
        try {
            leaf.verify(c.signing().isEmpty() ? c.root().getPublicKey() : c.signing().get(0).getPublicKey());
        } catch (Exception e) {
            chain = readChain(); // Vault's issuer may have changed since the chain was read
            throw new CaUnavailableException("Vault's certificate for " + id + " does not verify under the chain"
                    + " read from " + settings.mount() + "/cert/ca_chain (read again); retry", e);
        }
    }

    /** Refuses a role that would let Vault sign URI SANs outside the trust domain. */
    private void checkRole() {
        String path = settings.mount() + "/roles/" + settings.role();
        LogicalResponse role;
        try {
            role = session.read(path);
        } catch (CaUnavailableException e) {
            throw new CaException(e.getMessage(), e);
        }
        if (role == null || role.getDataObject() == null) {
            throw new CaException("Vault has no role " + path + "; create it with allowed_uri_sans=\"spiffe://"
                    + trustDomain.name() + "/*\" require_cn=false");
        }
        JsonValue basic = role.getDataObject().get("basic_constraints_valid_for_non_ca");
        if (basic == null || !basic.isBoolean() || !basic.asBoolean()) {
            throw new CaException("Vault role " + path + " must set basic_constraints_valid_for_non_ca=true (Vault"
                    + " 1.12 or later): X.509-SVID leaves carry basicConstraints CA:FALSE");
        }
        JsonValue allowed = role.getDataObject().get("allowed_uri_sans");
        List<String> patterns = new ArrayList<>();
        if (allowed != null && allowed.isArray()) {
            allowed.asArray().values().forEach(v -> patterns.add(v.asString()));
        } else if (allowed != null && allowed.isString() && !allowed.asString().isBlank()) {
            for (String p : allowed.asString().split(",")) {
                patterns.add(p.strip());
            }
        }
        String prefix = "spiffe://" + trustDomain.name() + "/";
        if (patterns.isEmpty()) {
            throw new CaException("Vault role " + path + " allows no URI SAN, so it cannot sign SVIDs: set"
                    + " allowed_uri_sans=\"" + prefix + "*\"");
        }
        for (String p : patterns) {
            if (!p.startsWith(prefix) || p.substring(prefix.length()).contains("{{")) {
                throw new CaException("Vault role " + path + " allows URI SANs '" + p + "' outside trust domain "
                        + trustDomain.name() + ": it could sign IDs of other trust domains; allow only " + prefix
                        + "*");
            }
        }
    }

    private Chain readChain() {
        String path = settings.mount() + "/cert/ca_chain";
        LogicalResponse r = session.read(path);
        String pem = r == null || r.getData() == null ? null : r.getData().get("certificate");
        if (pem == null || pem.isBlank()) {
            throw new CaException("Vault's " + path + " holds no certificate: generate or set the mount's CA first");
        }
        List<X509Certificate> certs;
        try {
            certs = Pem.readCertificates(pem);
        } catch (TrustFormatException e) {
            throw new CaException("Vault's " + path + " cannot be read: " + e.getMessage(), e);
        }
        X509Certificate last = certs.get(certs.size() - 1);
        if (!last.getSubjectX500Principal().equals(last.getIssuerX500Principal())) {
            throw new CaException("Vault's " + path + " does not end in a self-signed root (it ends in "
                    + last.getSubjectX500Principal() + "); import the whole chain into the mount");
        }
        Instant nb = Instant.MIN;
        Instant na = Instant.MAX;
        for (X509Certificate c : certs) {
            nb = c.getNotBefore().toInstant().isAfter(nb) ? c.getNotBefore().toInstant() : nb;
            na = c.getNotAfter().toInstant().isBefore(na) ? c.getNotAfter().toInstant() : na;
        }
        return new Chain(List.copyOf(certs.subList(0, certs.size() - 1)), last, nb, na);
    }
}
