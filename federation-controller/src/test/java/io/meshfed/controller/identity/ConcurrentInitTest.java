package io.meshfed.controller.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.trust.TrustDomain;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replicas that start together on one shared data directory (the Kubernetes HA variant runs `init` in each pod):
 * three processes initialise one fresh directory at the same moment, and all end with the same federation (one key,
 * one CA), which loads.
 */
class ConcurrentInitTest {
    @TempDir
    Path dir;

    /** One replica's init: waits for the go file, initialises, prints its federation root's SHA-256. */
    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Path go = Path.of(args[1]);
        while (!Files.exists(go)) {
            Thread.sleep(1);
        }
        FederationIdentity identity = FederationIdentity.initialise(data, TrustDomain.parse("acme.mesh"),
                Clock.systemUTC());
        System.out.println(root(identity));
    }

    private static String root(FederationIdentity identity) throws Exception {
        byte[] der = identity.bundle(identity.federationTrustDomain()).x509Authorities().get(0).getEncoded();
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der));
    }

    @Test
    void replicasInitialisingOneDirectoryTogetherEndWithOneFederation() throws Exception {
        Path data = dir.resolve("data");
        Path go = dir.resolve("go");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> replicas = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            replicas.add(new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp",
                    System.getProperty("java.class.path"), ConcurrentInitTest.class.getName(), data.toString(),
                    go.toString()).redirectErrorStream(true).start());
        }
        Thread.sleep(1500); // every JVM is up and waiting
        Files.writeString(go, "go");
        List<String> roots = new ArrayList<>();
        for (Process p : replicas) {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertThat(p.exitValue()).as(out).isZero();
            roots.add(out.substring(out.lastIndexOf('\n') + 1));
        }
        FederationIdentity loaded = FederationIdentity.load(data, Clock.systemUTC());
        assertThat(roots).containsOnly(root(loaded));
    }
}
