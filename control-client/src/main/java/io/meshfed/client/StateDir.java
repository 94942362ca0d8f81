package io.meshfed.client;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.meshfed.api.v1.BundleSet;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.ControllerInfo;
import io.meshfed.api.v1.JoinResponse;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SvidFiles;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A subscriber's state directory, owner-only: its SVID ({@code svid.crt.pem}, {@code svid.key.pem}), the bundle set
 * ({@code bundles.json}), where the controller is ({@code controller.json}) and the last accepted config snapshot
 * ({@code snapshot.pb}). Every file is replaced atomically; the identity survives restarts, so a node joins once.
 */
public final class StateDir {
    static final String CERT = "svid.crt.pem";
    static final String KEY = "svid.key.pem";
    static final String BUNDLES = "bundles.json";
    static final String CONTROLLER = "controller.json";
    static final String SNAPSHOT = "snapshot.pb";

    private final Path dir;

    public StateDir(Path dir) {
        this.dir = requireNonNull(dir, "dir");
    }

    public Path path() {
        return dir;
    }

    /** Whether a node joined with this directory before. */
    public boolean hasIdentity() {
        return Files.isRegularFile(dir.resolve(CERT)) && Files.isRegularFile(dir.resolve(KEY))
                && Files.isRegularFile(dir.resolve(CONTROLLER));
    }

    void create() throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    /** Records a join: SVID, bundles and controller addresses with the federation's trust domain. */
    void saveJoin(JoinResponse response, PrivateKey key, TrustDomain federation) throws IOException {
        create();
        saveSvid(Convert.svid(response.getSpiffeId(), response.getSvidChainList(), key));
        saveBundles(response.getBundles());
        write(CONTROLLER, JsonFormat.printer().print(ControllerInfo.newBuilder()
                .addAllAddresses(response.getControllerAddressesList())
                .setSpiffeId(MeshfedIds.controller(federation).toString()).build())
                .getBytes(StandardCharsets.UTF_8));
    }

    void saveSvid(X509Svid svid) throws IOException {
        SvidFiles.write(svid, dir.resolve(CERT), dir.resolve(KEY));
    }

    void saveBundles(BundleSet bundles) throws IOException {
        write(BUNDLES, JsonFormat.printer().print(bundles).getBytes(StandardCharsets.UTF_8));
    }

    void saveSnapshot(ConfigSnapshot snapshot) throws IOException {
        write(SNAPSHOT, snapshot.toByteArray());
    }

    public X509Svid svid() {
        return SvidFiles.read(dir.resolve(CERT), dir.resolve(KEY));
    }

    public io.meshfed.trust.BundleSet bundles() throws IOException {
        BundleSet.Builder b = BundleSet.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(dir.resolve(BUNDLES)), b);
        return Convert.bundleSet(b.build());
    }

    /** The controller's addresses and its SPIFFE ID, as recorded at join. */
    public ControllerInfo controller() throws IOException {
        ControllerInfo.Builder b = ControllerInfo.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(dir.resolve(CONTROLLER)), b);
        return b.build();
    }

    /** The last accepted snapshot, if any and if it is intact. */
    public Optional<ConfigSnapshot> snapshot() {
        Path file = dir.resolve(SNAPSHOT);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(ConfigSnapshot.parseFrom(Files.readAllBytes(file)));
        } catch (InvalidProtocolBufferException e) {
            return Optional.empty(); // a damaged cache is ignored: the controller sends a fresh one
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private void write(String name, byte[] content) throws IOException {
        Path target = dir.resolve(name);
        Path tmp = Files.createTempFile(dir, "." + name + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(tmp, content);
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Conversions from the api messages. */
    static final class Convert {
        private Convert() {}

        static X509Svid svid(String id, List<com.google.protobuf.ByteString> chain, PrivateKey key) {
            List<java.security.cert.X509Certificate> certs = new ArrayList<>();
            chain.forEach(b -> certs.add(Pem.certificateFromDer(b.toByteArray())));
            return X509Svid.of(io.meshfed.trust.SpiffeId.parse(id), certs, key);
        }

        static io.meshfed.trust.BundleSet bundleSet(BundleSet set) {
            List<TrustBundle> bundles = new ArrayList<>();
            for (io.meshfed.api.v1.TrustBundle b : set.getBundlesList()) {
                List<java.security.cert.X509Certificate> roots = new ArrayList<>();
                b.getX509AuthoritiesList().forEach(d -> roots.add(Pem.certificateFromDer(d.toByteArray())));
                bundles.add(TrustBundle.builder(TrustDomain.parse(b.getTrustDomain())).x509Authorities(roots)
                        .sequenceNumber(b.getSequence()).build());
            }
            return io.meshfed.trust.BundleSet.of(set.getVersion(), bundles);
        }
    }
}
