package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * Reads and writes trust bundle files in either format: SPIFFE bundle JSON or PEM (concatenated root certificates).
 * The format is recognised from the content. A file carries no trust domain of its own, so the caller gives one, or
 * it is taken from the {@code spiffe://<td>} URI SAN that meshfed (and SPIRE) put in root certificates.
 */
public final class BundleFiles {
    /** The two formats a bundle file can be in. */
    public enum Format {
        SPIFFE,
        PEM;

        public static Format parse(String text) {
            return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "spiffe", "json" -> SPIFFE;
                case "pem" -> PEM;
                default -> throw new IllegalArgumentException("unknown bundle format '" + text + "'; use pem or spiffe");
            };
        }
    }

    private BundleFiles() {}

    /** Recognises the format of a bundle text: JSON starts with '{', PEM has a BEGIN line. */
    public static Format detect(String text) {
        String trimmed = text.stripLeading();
        if (trimmed.startsWith("{")) {
            return Format.SPIFFE;
        }
        if (text.contains("-----BEGIN ")) {
            return Format.PEM;
        }
        throw new TrustFormatException("neither SPIFFE bundle JSON (starts with '{') nor PEM (has '-----BEGIN')");
    }

    /**
     * Reads a bundle file.
     *
     * @param trustDomain the trust domain, or empty to take it from the roots' SPIFFE URI SAN
     * @throws UncheckedIOException when the file cannot be read
     * @throws TrustFormatException naming the file and what is wrong with it
     */
    public static TrustBundle read(Path file, Optional<TrustDomain> trustDomain) {
        requireNonNull(file, "file");
        String text = readText(file);
        try {
            return parse(text, trustDomain);
        } catch (TrustFormatException e) {
            throw new TrustFormatException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses bundle text in either format (see {@link #read}). */
    public static TrustBundle parse(String text, Optional<TrustDomain> trustDomain) {
        Format format = detect(text);
        if (format == Format.PEM) {
            List<X509Certificate> roots = Pem.readCertificates(text);
            TrustDomain td = trustDomain.orElseGet(() -> trustDomainOf(roots));
            return TrustBundle.of(td, roots);
        }
        if (trustDomain.isPresent()) {
            return SpiffeBundleJson.decode(trustDomain.get(), text);
        }
        // Decode under a placeholder name to reach the certificates, then name the bundle after them.
        TrustBundle unnamed = SpiffeBundleJson.decode(TrustDomain.parse("unknown.invalid"), text);
        TrustBundle.Builder named = TrustBundle.builder(trustDomainOf(unnamed.x509Authorities()))
                .x509Authorities(unnamed.x509Authorities())
                .sequenceNumber(unnamed.sequenceNumber())
                .refreshHint(unnamed.refreshHint().orElse(null));
        unnamed.jwtAuthorities().forEach(named::putJwtAuthority);
        return named.build();
    }

    public static String encode(TrustBundle bundle, Format format) {
        return format == Format.PEM ? Pem.writeCertificates(bundle.x509Authorities()) : SpiffeBundleJson.encode(bundle);
    }

    private static TrustDomain trustDomainOf(List<X509Certificate> roots) {
        TrustDomain found = null;
        for (X509Certificate root : roots) {
            Optional<TrustDomain> td = SvidCertificates.trustDomainOfCa(root);
            if (td.isEmpty()) {
                continue;
            }
            if (found != null && !found.equals(td.get())) {
                throw new TrustFormatException("roots name two trust domains, " + found + " and " + td.get()
                        + "; a bundle holds the roots of one trust domain");
            }
            found = td.get();
        }
        if (found == null) {
            throw new TrustFormatException("cannot tell the trust domain: no root has a spiffe:// URI SAN;"
                    + " name it explicitly (--trust-domain, or TD=FILE)");
        }
        return found;
    }

    static String readText(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + describe(e), e);
        }
    }

    /** A short human description of an I/O failure ("no such file", "permission denied"). */
    public static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.charset.CharacterCodingException) {
            return "not a text file";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
