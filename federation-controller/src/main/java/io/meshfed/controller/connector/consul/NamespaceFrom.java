package io.meshfed.controller.connector.consul;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where a Consul service's meshfed namespace comes from ({@code meshfed consul join --namespace-from}): the tag
 * {@code meshfed-namespace=<ns>}, the service meta key {@code meshfed-namespace}, or always {@code default}. The tag
 * and meta forms fall back to {@code default} when the service carries neither.
 */
public enum NamespaceFrom {
    TAG, META, DEFAULT;

    /** The tag prefix and the meta key. */
    public static final String KEY = "meshfed-namespace";
    public static final String DEFAULT_NAMESPACE = "default";

    /** Reads {@code tag}, {@code meta} or {@code default}; anything else is refused with the choices. */
    public static NamespaceFrom parse(String text) {
        return Arrays.stream(values()).filter(v -> v.name().toLowerCase(Locale.ROOT).equals(text)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("--namespace-from '" + text
                        + "' must be tag, meta or default"));
    }

    /** The namespace this choice reads off a service, before any check of its form. */
    public String namespaceOf(Iterable<String> tags, Map<String, String> meta) {
        Optional<String> found = switch (this) {
            case TAG -> {
                String prefix = KEY + "=";
                String hit = null;
                for (String t : tags) {
                    if (t != null && t.startsWith(prefix)) {
                        hit = t.substring(prefix.length());
                        break;
                    }
                }
                yield Optional.ofNullable(hit);
            }
            case META -> Optional.ofNullable(meta == null ? null : meta.get(KEY));
            case DEFAULT -> Optional.empty();
        };
        return found.orElse(DEFAULT_NAMESPACE);
    }
}
