package io.meshfed.controller.stream;

import io.meshfed.api.v1.SvidReport;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidVerificationException;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.X509SvidVerifier;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads a subscriber's report of its SVID as the untrusted input it is: at most {@value #MAX_CERTIFICATES}
 * certificates of at most {@value #MAX_BYTES} bytes in all, a chain that verifies for the subscriber's own SPIFFE ID,
 * and the one root of its trust domain's bundle that it verifies to. A report that fails any of it counts as no
 * report: it can hold a rotation up (until the longest SVID lifetime passed), never speed one.
 */
final class SvidReports {
    static final int MAX_CERTIFICATES = 8;
    static final int MAX_BYTES = 64 * 1024;

    /** What a valid report says: the SVID's expiry and the SHA-256 (hex) of the root it chains to. */
    record Reported(Instant notAfter, String rootSha256) {}

    private SvidReports() {}

    /** The report's meaning, or why it is ignored. */
    static Result read(SvidReport report, SpiffeId subscriber, BundleSet bundles, Clock clock) {
        if (report.getChainCount() == 0 || report.getChainCount() > MAX_CERTIFICATES) {
            return Result.ignored("a chain of " + report.getChainCount() + " certificates (1 to " + MAX_CERTIFICATES
                    + ")");
        }
        long size = report.getChainList().stream().mapToLong(b -> b.size()).sum();
        if (size > MAX_BYTES) {
            return Result.ignored("a chain of " + size + " bytes (at most " + MAX_BYTES + ")");
        }
        List<X509Certificate> chain = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (var der : report.getChainList()) {
                chain.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der.toByteArray())));
            }
        } catch (CertificateException | ClassCastException e) {
            return Result.ignored("a certificate that does not parse: " + e.getMessage());
        }
        Optional<TrustBundle> bundle = bundles.find(subscriber.trustDomain());
        if (bundle.isEmpty()) {
            return Result.ignored("no bundle of " + subscriber.trustDomain().name());
        }
        X509SvidVerifier verifier = new X509SvidVerifier(clock);
        String why = "no root of " + subscriber.trustDomain().name() + "'s bundle";
        for (X509Certificate root : bundle.get().x509Authorities()) {
            BundleSet one = BundleSet.of(bundles.version(), List.of(TrustBundle.of(subscriber.trustDomain(),
                    List.of(root))));
            try {
                verifier.verify(chain, one, subscriber);
                return Result.of(new Reported(chain.get(0).getNotAfter().toInstant(),
                        io.meshfed.trust.SvidCertificates.sha256Hex(root)));
            } catch (SvidVerificationException e) {
                why = e.getMessage();
            }
        }
        return Result.ignored("a chain that does not verify: " + why);
    }


    /** A reading: the report, or the reason it was ignored. */
    record Result(Reported reported, String ignoredBecause) {
        static Result of(Reported reported) {
            return new Result(reported, "");
        }

        static Result ignored(String why) {
            return new Result(null, why);
        }
    }
}
