package io.meshfed.trust.ca.vault.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;

/**
 * A PKI role, the subset of Vault's role fields the fake enforces, with Vault's defaults (PKI API docs, "Create/Update
 * role"): {@code key_type} rsa with 2048 bits (256 for ec, 0 for any), {@code require_cn}, {@code use_csr_common_name},
 * {@code use_csr_sans}, {@code enforce_hostnames}, {@code server_flag} and {@code client_flag} true; the rest false or
 * empty. A POST replaces the whole role: fields it leaves out take their defaults again, as in Vault.
 */
final class VaultPkiRole {
    String name;
    List<String> allowedDomains = List.of();
    boolean allowBareDomains;
    boolean allowSubdomains;
    boolean allowGlobDomains;
    boolean allowAnyName;
    boolean enforceHostnames = true;
    List<String> allowedUriSans = List.of();
    boolean allowedUriSansTemplate;
    boolean requireCn = true;
    boolean useCsrCommonName = true;
    boolean useCsrSans = true;
    String keyType = "rsa";
    int keyBits = 2048;
    Duration ttl = Duration.ZERO;
    Duration maxTtl = Duration.ZERO;
    boolean serverFlag = true;
    /** {@code basic_constraints_valid_for_non_ca} (Vault 1.12+): leaves carry basicConstraints CA:FALSE. */
    boolean basicConstraintsValidForNonCa;
    boolean clientFlag = true;
    boolean noStore;
    List<String> keyUsage = List.of("DigitalSignature", "KeyAgreement", "KeyEncipherment");

    static VaultPkiRole from(String name, VaultParams p) {
        VaultPkiRole r = new VaultPkiRole();
        r.name = name;
        r.allowedDomains = p.list("allowed_domains");
        r.allowBareDomains = p.bool("allow_bare_domains", false);
        r.allowSubdomains = p.bool("allow_subdomains", false);
        r.allowGlobDomains = p.bool("allow_glob_domains", false);
        r.allowAnyName = p.bool("allow_any_name", false);
        r.enforceHostnames = p.bool("enforce_hostnames", true);
        r.allowedUriSans = p.list("allowed_uri_sans");
        r.allowedUriSansTemplate = p.bool("allowed_uri_sans_template", false);
        r.requireCn = p.bool("require_cn", true);
        r.useCsrCommonName = p.bool("use_csr_common_name", true);
        r.useCsrSans = p.bool("use_csr_sans", true);
        r.keyType = p.string("key_type", "rsa");
        int defaultBits = switch (r.keyType) {
            case "rsa" -> 2048;
            case "ec" -> 256;
            case "any" -> 0;
            default -> throw VaultError.badRequest("unknown key_type " + r.keyType);
        };
        r.keyBits = p.integer("key_bits", 0);
        if (r.keyBits == 0) {
            r.keyBits = defaultBits;
        }
        if (r.keyType.equals("ec") && !List.of(224, 256, 384, 521).contains(r.keyBits)) {
            throw VaultError.badRequest("unsupported bit length for EC key: " + r.keyBits);
        }
        if (r.keyType.equals("rsa") && r.keyBits < 2048) {
            throw VaultError.badRequest("RSA keys < 2048 bits are unsafe and not supported: got " + r.keyBits
                    + " bits");
        }
        Duration ttl = p.duration("ttl");
        r.ttl = ttl == null ? Duration.ZERO : ttl;
        Duration maxTtl = p.duration("max_ttl");
        r.maxTtl = maxTtl == null ? Duration.ZERO : maxTtl;
        if (!r.maxTtl.isZero() && r.ttl.compareTo(r.maxTtl) > 0) {
            throw VaultError.badRequest("\"ttl\" value must be less than \"max_ttl\" value");
        }
        r.serverFlag = p.bool("server_flag", true);
        r.basicConstraintsValidForNonCa = p.bool("basic_constraints_valid_for_non_ca", false);
        r.clientFlag = p.bool("client_flag", true);
        r.noStore = p.bool("no_store", false);
        if (p.has("key_usage")) {
            r.keyUsage = p.list("key_usage");
        }
        return r;
    }

    ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.set("allowed_domains", array(allowedDomains));
        o.put("allow_bare_domains", allowBareDomains);
        o.put("allow_subdomains", allowSubdomains);
        o.put("allow_glob_domains", allowGlobDomains);
        o.put("allow_any_name", allowAnyName);
        o.put("enforce_hostnames", enforceHostnames);
        o.set("allowed_uri_sans", array(allowedUriSans));
        o.put("allowed_uri_sans_template", allowedUriSansTemplate);
        o.put("require_cn", requireCn);
        o.put("use_csr_common_name", useCsrCommonName);
        o.put("use_csr_sans", useCsrSans);
        o.put("key_type", keyType);
        o.put("key_bits", keyBits);
        o.put("ttl", ttl.toSeconds());
        o.put("max_ttl", maxTtl.toSeconds());
        o.put("server_flag", serverFlag);
        o.put("basic_constraints_valid_for_non_ca", basicConstraintsValidForNonCa);
        o.put("client_flag", clientFlag);
        o.put("no_store", noStore);
        o.set("key_usage", array(keyUsage));
        return o;
    }

    private static ArrayNode array(List<String> values) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        values.forEach(a::add);
        return a;
    }
}
