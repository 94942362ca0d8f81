package io.meshfed.trust;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;

/**
 * The SPIFFE bundle format (SPIFFE Trust Domain and Bundle, section 4): a JWK Set whose X.509 authorities are keys
 * with {@code use: x509-svid} and an {@code x5c} of one CA certificate, plus {@code spiffe_sequence} and
 * {@code spiffe_refresh_hint}. Consuming follows the standard: keys with an unknown {@code use} or {@code kty} are
 * ignored, an {@code x509-svid} key without {@code x5c} is ignored, and of several {@code x5c} values only the first
 * counts. The JSON has no trust domain in it; the caller says which trust domain a bundle is for.
 */
public final class SpiffeBundleJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<String> KNOWN_KTY = Set.of("EC", "RSA", "OKP");
    static final String USE_X509 = "x509-svid";
    static final String USE_JWT = "jwt-svid";

    private SpiffeBundleJson() {}

    /** At most 64 characters of a value, for an error message: the document may come from anyone. */
    private static String excerpt(JsonNode value) {
        String text = value.toString();
        return text.length() <= 64 ? text : text.substring(0, 64) + "…";
    }

    public static String encode(TrustBundle bundle) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode keys = root.putArray("keys");
        for (X509Certificate cert : bundle.x509Authorities()) {
            ObjectNode key = keys.addObject();
            putPublicKey(key, cert.getPublicKey());
            key.put("use", USE_X509);
            key.putArray("x5c").add(Base64.getEncoder().encodeToString(der(cert)));
        }
        for (String jwk : bundle.jwtAuthorities().values()) {
            try {
                keys.add(MAPPER.readTree(jwk));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("stored JWT authority is not JSON: " + e.getOriginalMessage(), e);
            }
        }
        root.put("spiffe_sequence", bundle.sequenceNumber());
        bundle.refreshHint().ifPresent(h -> root.put("spiffe_refresh_hint", h.toSeconds()));
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Decodes a SPIFFE bundle for {@code trustDomain}.
     *
     * @throws TrustFormatException naming what is malformed: not JSON, no {@code keys} array, a key whose {@code x5c} is
     *     not a certificate, an authority whose key is not EC or RSA
     */
    public static TrustBundle decode(TrustDomain trustDomain, String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr();
            throw new TrustFormatException("SPIFFE bundle is not valid JSON" + where + ": " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new TrustFormatException("SPIFFE bundle must be a JSON object with a 'keys' array");
        }
        JsonNode keys = root.get("keys");
        if (keys == null || !keys.isArray()) {
            throw new TrustFormatException("SPIFFE bundle has no 'keys' array (required by the standard)");
        }
        TrustBundle.Builder builder = TrustBundle.builder(trustDomain);
        JsonNode sequence = root.get("spiffe_sequence");
        if (sequence != null && !sequence.isNull()) {
            if (!sequence.canConvertToLong() || !sequence.isIntegralNumber() || sequence.asLong() < 0) {
                throw new TrustFormatException("spiffe_sequence must be a non-negative integer, got "
                        + excerpt(sequence));
            }
            builder.sequenceNumber(sequence.asLong());
        }
        JsonNode hint = root.get("spiffe_refresh_hint");
        if (hint != null && !hint.isNull()) {
            if (!hint.isIntegralNumber() || hint.asLong() <= 0) {
                throw new TrustFormatException("spiffe_refresh_hint must be a positive number of seconds, got "
                        + excerpt(hint));
            }
            builder.refreshHint(Duration.ofSeconds(hint.asLong()));
        }
        for (int i = 0; i < keys.size(); i++) {
            decodeKey(builder, keys.get(i), i);
        }
        return builder.build();
    }

    /** The most keys a bundle fetched from another trust domain may hold ({@link #decodeFederated}). */
    public static final int MAX_FEDERATED_KEYS = 64;

    /**
     * Decodes a bundle fetched from an outside trust domain's bundle endpoint, which is untrusted input: on top of
     * {@link #decode}, at most {@value #MAX_FEDERATED_KEYS} keys, at least one X.509 authority, every X.509 authority
     * a CA certificate allowed to sign certificates (basic constraints CA, key usage keyCertSign when present), and
     * none that names another trust domain in a {@code spiffe://} URI SAN.
     *
     * @throws TrustFormatException naming the first rule broken and the key it is in
     */
    public static TrustBundle decodeFederated(TrustDomain trustDomain, String json) {
        TrustBundle bundle = decode(trustDomain, json);
        int keys = keyCount(json);
        if (keys > MAX_FEDERATED_KEYS) {
            throw new TrustFormatException("the bundle has " + keys + " keys; at most " + MAX_FEDERATED_KEYS
                    + " are accepted from another trust domain");
        }
        if (bundle.x509Authorities().isEmpty()) {
            throw new TrustFormatException("the bundle has no x509-svid authority; an empty bundle would make every"
                    + " SVID of " + trustDomain + " fail, so it is not taken");
        }
        for (int i = 0; i < bundle.x509Authorities().size(); i++) {
            X509Certificate root = bundle.x509Authorities().get(i);
            String which = "X.509 authority " + (i + 1) + " (" + root.getSubjectX500Principal().getName() + ")";
            if (root.getBasicConstraints() < 0) {
                throw new TrustFormatException(which + " is not a CA certificate (basic constraints CA:FALSE)");
            }
            boolean[] usage = root.getKeyUsage();
            if (usage != null && (usage.length < 6 || !usage[5])) {
                throw new TrustFormatException(which + " may not sign certificates (no keyCertSign key usage)");
            }
            for (String uri : uriSans(root)) {
                if (uri.startsWith("spiffe://")) {
                    String named = uri.substring("spiffe://".length()).split("/", 2)[0];
                    if (!named.equals(trustDomain.name())) {
                        throw new TrustFormatException(which + " names trust domain " + named + ", not "
                                + trustDomain);
                    }
                }
            }
        }
        return bundle;
    }

    private static int keyCount(String json) {
        try {
            return MAPPER.readTree(json).get("keys").size();
        } catch (JsonProcessingException e) {
            throw new TrustFormatException("SPIFFE bundle is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static java.util.List<String> uriSans(X509Certificate cert) {
        try {
            java.util.Collection<java.util.List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans == null) {
                return java.util.List.of();
            }
            java.util.List<String> uris = new java.util.ArrayList<>();
            for (java.util.List<?> san : sans) {
                if (san.size() == 2 && Integer.valueOf(6).equals(san.get(0)) && san.get(1) instanceof String u) {
                    uris.add(u);
                }
            }
            return uris;
        } catch (java.security.cert.CertificateParsingException e) {
            throw new TrustFormatException("an X.509 authority's subject alternative names cannot be read: "
                    + e.getMessage(), e);
        }
    }

    private static void decodeKey(TrustBundle.Builder builder, JsonNode key, int index) {
        if (!key.isObject()) {
            throw new TrustFormatException("keys[" + index + "] is not a JSON object");
        }
        String kty = text(key, "kty");
        String use = text(key, "use");
        if (kty == null || !KNOWN_KTY.contains(kty) || use == null) {
            return; // unknown or missing key type or use: the standard says to ignore the entry
        }
        if (use.equals(USE_X509)) {
            JsonNode x5c = key.get("x5c");
            if (x5c == null || !x5c.isArray() || x5c.isEmpty()) {
                return; // X509-SVID section 6.2: an entry without x5c is ignored
            }
            JsonNode first = x5c.get(0); // further values are ignored
            byte[] der;
            try {
                der = Base64.getDecoder().decode(first.asText());
            } catch (IllegalArgumentException e) {
                throw new TrustFormatException("keys[" + index + "].x5c[0] is not base64: " + e.getMessage(), e);
            }
            X509Certificate authority;
            try {
                authority = Pem.certificateFromDer(der);
            } catch (TrustFormatException e) {
                throw new TrustFormatException("keys[" + index + "].x5c[0]: " + e.getMessage(), e);
            }
            PublicKey authorityKey = authority.getPublicKey();
            if (!(authorityKey instanceof ECPublicKey) && !(authorityKey instanceof RSAPublicKey)) {
                // encode() could not write it back, and no meshfed CA or TLS stack uses such a root
                throw new TrustFormatException("keys[" + index + "].x5c[0]: the authority's key is "
                        + authorityKey.getAlgorithm() + "; X.509 authorities must have EC or RSA keys");
            }
            builder.addX509Authority(authority);
        } else if (use.equals(USE_JWT)) {
            String kid = text(key, "kid");
            if (kid == null || kid.isEmpty()) {
                throw new TrustFormatException("keys[" + index + "] is a jwt-svid key without the required 'kid'");
            }
            builder.putJwtAuthority(kid, key.toString());
        }
        // any other use: ignored, as the standard requires
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isTextual() ? v.asText() : null;
    }

    private static void putPublicKey(ObjectNode key, PublicKey publicKey) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        if (publicKey instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            int size = (bits + 7) / 8;
            key.put("kty", "EC");
            key.put("crv", "P-" + bits);
            key.put("x", b64.encodeToString(unsigned(ec.getW().getAffineX(), size)));
            key.put("y", b64.encodeToString(unsigned(ec.getW().getAffineY(), size)));
        } else if (publicKey instanceof RSAPublicKey rsa) {
            key.put("kty", "RSA");
            key.put("n", b64.encodeToString(unsigned(rsa.getModulus(), 0)));
            key.put("e", b64.encodeToString(unsigned(rsa.getPublicExponent(), 0)));
        } else {
            throw new IllegalArgumentException("unsupported root key type " + publicKey.getAlgorithm());
        }
    }

    /** Big-endian unsigned bytes, left-padded to {@code size} when size > 0 (RFC 7518 section 6). */
    private static byte[] unsigned(BigInteger value, int size) {
        byte[] bytes = value.toByteArray();
        int start = bytes.length > 1 && bytes[0] == 0 ? 1 : 0;
        int length = bytes.length - start;
        int outLength = Math.max(size, length);
        byte[] out = new byte[outLength];
        System.arraycopy(bytes, start, out, outLength - length, length);
        return out;
    }

    private static byte[] der(X509Certificate cert) {
        try {
            return cert.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
