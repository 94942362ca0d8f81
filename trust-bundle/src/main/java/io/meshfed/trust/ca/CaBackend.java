package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.TrustDomain;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * One kind of CA a trust domain can have ({@code builtin}, {@code provided}, {@code vault}), chosen by name in the
 * trust domain's configuration and opened by {@link CaBackends}. Each backend reads what it needs from the
 * {@link Context}: its directory, the key-encryption key, and its own settings, whose secrets are named by file,
 * never given inline.
 */
public interface CaBackend {
    /** The name configuration uses. */
    String name();

    /**
     * Opens the trust domain's CA (creating it, for a backend that can).
     *
     * @throws CaException naming what is wrong or missing
     */
    CertificateAuthority open(Context context);

    /** Where and with what a backend opens a trust domain's CA. */
    record Context(TrustDomain trustDomain, Path directory, KeyEncryptionKey kek, Clock clock,
            Map<String, String> settings) {
        public Context {
            requireNonNull(trustDomain, "trustDomain");
            requireNonNull(directory, "directory");
            requireNonNull(clock, "clock");
            settings = settings == null ? Map.of() : Map.copyOf(settings);
        }

        /** A setting that must be there. */
        public String required(String key) {
            return optional(key).orElseThrow(() -> new CaException("the CA of " + trustDomain.name() + " needs the"
                    + " setting '" + key + "'"));
        }

        public Optional<String> optional(String key) {
            return Optional.ofNullable(settings.get(key)).filter(v -> !v.isBlank());
        }
    }
}
