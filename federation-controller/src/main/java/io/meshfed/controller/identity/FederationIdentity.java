package io.meshfed.controller.identity;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.ca.CaException;
import io.meshfed.trust.ca.CertificateAuthority;
import io.meshfed.trust.ca.IssuancePolicy;
import io.meshfed.trust.ca.IssuanceRefusedException;
import io.meshfed.trust.ca.IssuedSvid;
import io.meshfed.trust.ca.KeyEncryptionKey;
import io.meshfed.trust.ca.SvidRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The federation's certificate authorities, kept in the data directory: {@code federation.json} names the
 * federation's trust domain, {@code kek} is the key-encryption key (owner-only, made by init), and {@code ca/<td>/}
 * holds one builtin CA per trust domain: the federation's own and one per member. Thread-safe.
 */
public final class FederationIdentity {
    public static final String FEDERATION_FILE = "federation.json";
    public static final String KEK_FILE = "kek";
    /** Held (a file lock) while a data directory is initialised. */
    public static final String INIT_LOCK_FILE = "init.lock";
    public static final String CA_DIR = "ca";
    public static final String PROVIDED_DIR = io.meshfed.trust.ca.CaBackends.PROVIDED_DIR;
    public static final String PROVIDED_CERT = io.meshfed.trust.ca.CaBackends.PROVIDED_CERT;
    public static final String PROVIDED_KEY = io.meshfed.trust.ca.CaBackends.PROVIDED_KEY;
    public static final String PROVIDED_CHAIN = io.meshfed.trust.ca.CaBackends.PROVIDED_CHAIN;
    public static final String PROVIDED_ROOT = io.meshfed.trust.ca.CaBackends.PROVIDED_ROOT;
    private static final io.meshfed.trust.ca.CaBackends BACKENDS = io.meshfed.trust.ca.CaBackends.standard();

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dataDir;
    private final TrustDomain federationTrustDomain;
    private final KeyEncryptionKey kek;
    private final Clock clock;
    /** Where generation n of a trust domain's CA lives, below generation 0's directory {@code ca/<td>/}. */
    public static final String GENERATIONS_DIR = "generations";
    private final Map<TrustDomain, CertificateAuthority> cas = new ConcurrentHashMap<>();
    private final Map<String, CertificateAuthority> generations = new ConcurrentHashMap<>();

    private FederationIdentity(Path dataDir, TrustDomain federationTrustDomain, KeyEncryptionKey kek, Clock clock) {
        this.dataDir = dataDir;
        this.federationTrustDomain = federationTrustDomain;
        this.kek = kek;
        this.clock = clock;
    }

    /** Whether {@code dataDir} holds an initialised federation. */
    public static boolean isInitialised(Path dataDir) {
        return Files.isRegularFile(dataDir.resolve(FEDERATION_FILE));
    }

    /**
     * Creates the federation in {@code dataDir}: key-encryption key, the federation CA, and federation.json (last,
     * as the mark of a complete init). Idempotent for the same trust domain.
     *
     * @throws CaException when the directory holds a federation of another trust domain, or cannot be written
     */
    public static FederationIdentity initialise(Path dataDir, TrustDomain trustDomain, Clock clock) {
        requireNonNull(dataDir, "dataDir");
        requireNonNull(trustDomain, "trustDomain");
        try {
            io.meshfed.controller.store.OwnerOnly.directory(dataDir);
        } catch (IOException e) {
            throw new CaException("cannot create the data directory " + dataDir + ": " + e.getMessage(), e);
        }
        // Replicas that start together on one shared data directory (the Kubernetes HA variant) initialise it one at
        // a time: the first creates the key and the CA, the others find it initialised. A lock in this process too,
        // since a file lock is per process.
        synchronized (FederationIdentity.class) {
            Path lockFile = dataDir.resolve(INIT_LOCK_FILE);
            try (java.nio.channels.FileChannel channel = openOwnerOnly(lockFile);
                    java.nio.channels.FileLock ignored = channel.lock()) {
                return initialiseLocked(dataDir, trustDomain, clock);
            } catch (IOException e) {
                throw new CaException("cannot lock " + lockFile + " to initialise the federation: " + e.getMessage(),
                        e);
            }
        }
    }

    private static java.nio.channels.FileChannel openOwnerOnly(Path file) throws IOException {
        try {
            io.meshfed.controller.store.OwnerOnly.file(file);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // another replica made it a moment ago
        }
        return java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE);
    }

    private static FederationIdentity initialiseLocked(Path dataDir, TrustDomain trustDomain, Clock clock) {
        if (isInitialised(dataDir)) {
            FederationIdentity existing = load(dataDir, clock);
            if (!existing.federationTrustDomain.equals(trustDomain)) {
                throw new CaException(dataDir + " already holds the federation of trust domain "
                        + existing.federationTrustDomain + "; use another --data-dir for " + trustDomain);
            }
            return existing;
        }
        try {
            io.meshfed.controller.store.OwnerOnly.directory(dataDir);
        } catch (IOException e) {
            throw new CaException("cannot create the data directory " + dataDir + ": " + e.getMessage(), e);
        }
        KeyEncryptionKey kek = KeyEncryptionKey.loadOrCreate(dataDir.resolve(KEK_FILE));
        FederationIdentity identity = new FederationIdentity(dataDir, trustDomain, kek, clock);
        identity.ca(trustDomain);
        try {
            writeFederationFile(dataDir, trustDomain);
        } catch (IOException e) {
            throw new CaException("cannot write " + dataDir.resolve(FEDERATION_FILE) + ": " + e.getMessage(), e);
        }
        return identity;
    }

    private static void writeFederationFile(Path dataDir, TrustDomain trustDomain) throws IOException {
        Path tmp = dataDir.resolve(FEDERATION_FILE + ".tmp");
        Files.writeString(tmp, "{\"trustDomain\": \"" + trustDomain.name() + "\"}\n");
        Files.move(tmp, dataDir.resolve(FEDERATION_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Loads the federation of {@code dataDir}.
     *
     * @throws CaException when it was never initialised, or its files are unreadable or do not match the key
     */
    public static FederationIdentity load(Path dataDir, Clock clock) {
        requireNonNull(dataDir, "dataDir");
        if (!isInitialised(dataDir)) {
            throw new CaException("no federation in " + dataDir + " (" + FEDERATION_FILE + " not found); create one"
                    + " with: meshfed init --controller HOST:PORT --data-dir " + dataDir);
        }
        TrustDomain td;
        try {
            JsonNode node = JSON.readTree(Files.readString(dataDir.resolve(FEDERATION_FILE)));
            td = TrustDomain.parse(node.path("trustDomain").asText(""));
        } catch (IOException | IllegalArgumentException e) {
            throw new CaException(dataDir.resolve(FEDERATION_FILE) + " is not readable: " + e.getMessage(), e);
        }
        FederationIdentity identity = new FederationIdentity(dataDir, td,
                KeyEncryptionKey.fromFile(dataDir.resolve(KEK_FILE)), clock);
        identity.ca(td); // fail fast on a wrong key or a damaged CA
        return identity;
    }

    /** Seals secrets other than CA keys (member cluster credentials) under the key-encryption key. */
    public io.meshfed.trust.ca.SealedSecrets secrets() {
        return new io.meshfed.trust.ca.SealedSecrets(kek);
    }

    public TrustDomain federationTrustDomain() {
        return federationTrustDomain;
    }

    public SpiffeId controllerId() {
        return MeshfedIds.controller(federationTrustDomain);
    }

    public SpiffeId adminId() {
        return MeshfedIds.admin(federationTrustDomain);
    }

    /**
     * The CA of a trust domain, opened by the backend its directory's {@code backend.json} names
     * ({@link CaChoice}; {@link io.meshfed.trust.ca.CaBackends}): builtin (created on first use), provided (the
     * operator's Istio-style cacerts set in {@code provided/}: {@value #PROVIDED_CERT}, {@value #PROVIDED_KEY}
     * owner-only, {@value #PROVIDED_CHAIN}, optionally {@value #PROVIDED_ROOT}), or vault.
     */
    public CertificateAuthority ca(TrustDomain trustDomain) {
        return cas.computeIfAbsent(trustDomain, td -> open(td, directory(td, 0)));
    }

    /**
     * Generation {@code generation} of a trust domain's CA: 0 is {@link #ca(TrustDomain)}, later ones were made by
     * root rotations ({@link #createGeneration}). Which one is in use is the store's to say (the rotation records).
     */
    public CertificateAuthority ca(TrustDomain trustDomain, int generation) {
        if (generation == 0) {
            return ca(trustDomain);
        }
        return generations.computeIfAbsent(trustDomain.name() + "/" + generation,
                k -> open(trustDomain, directory(trustDomain, generation)));
    }

    /** The backend name of a generation, as its {@code backend.json} says. */
    public String backendOf(TrustDomain trustDomain, int generation) {
        return CaChoice.of(directory(trustDomain, generation)).backend();
    }

    private CertificateAuthority open(TrustDomain td, Path dir) {
        CaChoice choice = CaChoice.of(dir);
        return BACKENDS.named(choice.backend()).open(new io.meshfed.trust.ca.CaBackend.Context(td, dir, kek,
                clock, choice.settings()));
    }

    private Path directory(TrustDomain td, int generation) {
        Path base = dataDir.resolve(CA_DIR).resolve(td.name());
        return generation == 0 ? base : base.resolve(GENERATIONS_DIR).resolve(Integer.toString(generation));
    }

    /**
     * Makes generation {@code generation} of a trust domain's CA with the given backend and opens it, so that a
     * backend that cannot work (a Vault role that allows any SAN, provided files whose chain does not end in their
     * root) is refused here, before anything is stored. A directory left by an earlier attempt that never reached
     * the store is replaced. {@code provided} copies the operator's files from the setting {@code dir} (on this
     * host) into the generation's {@code provided/}, the key owner-only.
     *
     * @throws CaException naming what is wrong
     */
    public CertificateAuthority createGeneration(TrustDomain td, int generation, String backend,
            Map<String, String> settings) {
        if (generation < 1) {
            throw new IllegalArgumentException("generation " + generation);
        }
        BACKENDS.named(backend); // an unknown name is refused listing the known ones
        Path dir = directory(td, generation);
        generations.remove(td.name() + "/" + generation);
        try {
            deleteRecursively(dir);
            io.meshfed.controller.store.OwnerOnly.directory(dir);
            Map<String, String> kept = new java.util.LinkedHashMap<>(settings);
            if (backend.equals(io.meshfed.trust.ca.ProvidedCertificateAuthority.BACKEND)) {
                copyProvided(Path.of(requireSetting(settings, "dir", td)), dir.resolve(PROVIDED_DIR));
                kept.remove("dir");
            }
            new CaChoice(backend, kept).write(dir.resolve(CaChoice.FILE));
        } catch (IOException e) {
            throw new CaException("cannot make " + dir + ": " + e.getMessage(), e);
        }
        try {
            return ca(td, generation);
        } catch (RuntimeException e) {
            try {
                deleteRecursively(dir);
            } catch (IOException ignored) {
                // the directory is replaced by the next attempt anyway
            }
            throw e;
        }
    }

    /**
     * Chooses the backend of a new trust domain before its CA is first opened ({@code meshfed member add --ca}).
     * The same choice again is accepted; another one for a trust domain whose CA exists already is refused.
     *
     * @throws CaException naming the conflict, or what the backend needs
     */
    public CertificateAuthority configure(TrustDomain td, String backend, Map<String, String> settings) {
        BACKENDS.named(backend);
        Path dir = directory(td, 0);
        Path file = dir.resolve(CaChoice.FILE);
        if (Files.isRegularFile(file)) {
            CaChoice have = CaChoice.of(dir);
            if (!have.backend().equals(backend) || !have.settings().equals(settings)) {
                throw new CaException("trust domain " + td.name() + " has a CA already (backend " + have.backend()
                        + ", " + file + "); its CA changes by rotation: meshfed trust rotate " + td.name()
                        + " --to " + backend);
            }
            return ca(td);
        }
        boolean made = !Files.exists(dir);
        try {
            io.meshfed.controller.store.OwnerOnly.directory(dir);
            new CaChoice(backend, settings).write(file);
        } catch (IOException e) {
            throw new CaException("cannot write " + file + ": " + e.getMessage(), e);
        }
        try {
            return ca(td);
        } catch (RuntimeException e) {
            try {
                Files.deleteIfExists(file); // a corrected request may choose again
                if (made) {
                    deleteRecursively(dir); // nothing of the refused choice stays
                }
            } catch (IOException ignored) {
                // left for the operator: the message names the file
            }
            throw e;
        }
    }

    private static String requireSetting(Map<String, String> settings, String key, TrustDomain td) {
        String v = settings.get(key);
        if (v == null || v.isBlank()) {
            throw new CaException("the provided CA of " + td.name() + " needs the setting '" + key + "': the"
                    + " directory (on the controller's host) holding " + PROVIDED_CERT + ", " + PROVIDED_KEY + " and "
                    + PROVIDED_CHAIN);
        }
        return v;
    }

    private static void copyProvided(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            throw new CaException("provided CA directory " + from + " does not exist on the controller's host");
        }
        io.meshfed.controller.store.OwnerOnly.directory(to);
        for (String name : List.of(PROVIDED_CERT, PROVIDED_KEY, PROVIDED_CHAIN, PROVIDED_ROOT)) {
            Path f = from.resolve(name);
            if (!Files.isRegularFile(f)) {
                if (name.equals(PROVIDED_ROOT)) {
                    continue;
                }
                throw new CaException(from + " has no " + name);
            }
            Path target = to.resolve(name);
            Files.copy(f, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(target, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The bundle of a trust domain, numbered with the set's version as its sequence. */
    public TrustBundle bundle(TrustDomain trustDomain) {
        return ca(trustDomain).bundle();
    }

    /**
     * The controller's own SVID, presented with the root at the end of its chain, so that joiners holding only
     * the root's pin (from their token) can verify it.
     */
    public X509Svid issueControllerSvid(Duration ttl) {
        X509Svid svid = issueLocal(controllerId(), ttl);
        List<java.security.cert.X509Certificate> chain = new ArrayList<>(svid.chain());
        chain.addAll(ca(federationTrustDomain).rootCertificates());
        return X509Svid.of(svid.id(), chain, svid.privateKey());
    }

    /** An SVID whose key is made here, in this process: for the controller itself and for init's admin. */
    public X509Svid issueLocal(SpiffeId id, Duration ttl) {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        try {
            IssuedSvid issued = ca(id.trustDomain()).issue(
                    SvidRequest.of(CertificateSigningRequests.createDer(keys, id), id, ttl), IssuancePolicy.exactly(id));
            return X509Svid.of(id, issued.chain(), keys.getPrivate());
        } catch (IssuanceRefusedException e) {
            throw new CaException("cannot issue " + id + ": " + e.getMessage());
        }
    }
}
