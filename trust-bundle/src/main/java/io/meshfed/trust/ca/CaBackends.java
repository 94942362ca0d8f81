package io.meshfed.trust.ca;

import io.meshfed.trust.ca.vault.VaultCertificateAuthority;
import io.meshfed.trust.internal.AtomicFiles;
import io.meshfed.trust.ca.vault.VaultSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CA backends by name: a trust domain's configured backend is looked up here, never guessed from which files
 * exist. {@link #standard()} holds {@code builtin} (root and intermediate made here, keys sealed under the KEK,
 * created on first use), {@code provided} (the operator's intermediate and key, Istio {@code cacerts} style, in the
 * directory's {@code provided/}) and {@code vault} (Vault's PKI engine signs; settings {@code address},
 * {@code mount}, {@code role}, and either {@code token-file} or {@code approle-role-id} with
 * {@code approle-secret-id-file}; optional {@code approle-path}, {@code ca-file}) and {@code external} (another
 * mesh issues; setting {@code bundle-file}: its roots, SPIFFE bundle JSON or PEM).
 */
public final class CaBackends {
    public static final String PROVIDED_DIR = "provided";
    public static final String PROVIDED_CERT = "ca-cert.pem";
    public static final String PROVIDED_KEY = "ca-key.pem";
    public static final String PROVIDED_CHAIN = "cert-chain.pem";
    public static final String PROVIDED_ROOT = "root-cert.pem";

    private final Map<String, CaBackend> byName;

    private CaBackends(List<CaBackend> backends) {
        Map<String, CaBackend> m = new LinkedHashMap<>();
        backends.forEach(b -> m.put(b.name(), b));
        this.byName = Map.copyOf(m);
        this.names = List.copyOf(m.keySet());
    }

    private final List<String> names;

    /** builtin, provided, vault and external. */
    public static CaBackends standard() {
        return new CaBackends(List.of(new Builtin(), new Provided(), new Vault(), new External()));
    }

    /** The backend of that name; a name no backend has is refused listing the known ones. */
    public CaBackend named(String name) {
        CaBackend b = byName.get(name);
        if (b == null) {
            throw new CaException("unknown CA backend '" + name + "'; the backends are " + String.join(", ", names));
        }
        return b;
    }

    public List<String> names() {
        return names;
    }

    private static final class Builtin implements CaBackend {
        @Override
        public String name() {
            return BuiltinCertificateAuthority.BACKEND;
        }

        @Override
        public CertificateAuthority open(Context c) {
            return BuiltinCertificateAuthority.exists(c.directory())
                    ? BuiltinCertificateAuthority.load(c.directory(), c.kek(), c.clock())
                    : BuiltinCertificateAuthority.create(c.directory(), c.trustDomain(), c.kek(),
                            BuiltinCertificateAuthority.Options.DEFAULTS, c.clock());
        }
    }

    private static final class Provided implements CaBackend {
        @Override
        public String name() {
            return ProvidedCertificateAuthority.BACKEND;
        }

        @Override
        public CertificateAuthority open(Context c) {
            Path dir = c.directory().resolve(PROVIDED_DIR);
            Path key = dir.resolve(PROVIDED_KEY);
            ownerOnly(key);
            Path root = dir.resolve(PROVIDED_ROOT);
            return ProvidedCertificateAuthority.load(c.trustDomain(), dir.resolve(PROVIDED_CERT), key,
                    dir.resolve(PROVIDED_CHAIN), Files.exists(root) ? Optional.of(root) : Optional.empty(),
                    c.clock());
        }
    }

    private static final class Vault implements CaBackend {
        @Override
        public String name() {
            return VaultCertificateAuthority.BACKEND;
        }

        @Override
        public CertificateAuthority open(Context c) {
            VaultSettings.Credentials credentials;
            if (c.optional("token-file").isPresent()) {
                credentials = new VaultSettings.Token(secret(c, "token-file"));
            } else if (c.optional("approle-role-id").isPresent()) {
                credentials = new VaultSettings.AppRole(c.optional("approle-path").orElse("approle"),
                        c.required("approle-role-id"), secret(c, "approle-secret-id-file"));
            } else {
                throw new CaException("the Vault CA of " + c.trustDomain().name() + " needs 'token-file', or"
                        + " 'approle-role-id' with 'approle-secret-id-file'");
            }
            String ca = c.optional("ca-file").map(f -> read(Path.of(f))).orElse("");
            VaultSettings settings;
            try {
                settings = new VaultSettings(URI.create(c.required("address")), c.required("mount"),
                        c.required("role"), credentials, ca, Duration.ofSeconds(10));
            } catch (IllegalArgumentException e) {
                throw new CaException("the Vault CA of " + c.trustDomain().name() + ": " + e.getMessage(), e);
            }
            return VaultCertificateAuthority.connect(c.trustDomain(), settings, c.clock());
        }

        private static String secret(Context c, String key) {
            Path file = Path.of(c.required(key));
            ownerOnly(file);
            String s = read(file).strip();
            if (s.isEmpty()) {
                throw new CaException(file + " (" + key + ") is empty");
            }
            return s;
        }
    }

    private static final class External implements CaBackend {
        @Override
        public String name() {
            return ExternalCertificateAuthority.BACKEND;
        }

        @Override
        public CertificateAuthority open(Context c) {
            return ExternalCertificateAuthority.load(c.trustDomain(), Path.of(c.required("bundle-file")));
        }
    }

    /** A file holding a key or a secret must be readable by its owner only. */
    static void ownerOnly(Path file) {
        try {
            if (AtomicFiles.readableByOthers(file)) {
                throw new CaException(file + " is accessible by group or others; restrict it with: chmod 600 " + file);
            }
        } catch (IOException e) {
            throw new CaException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CaException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
