package io.meshfed.cli;

import io.meshfed.cli.RealControllerCli.Result;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshfed trust federate}, {@code trust federation list|delete} and the federations in {@code meshfed status}
 * against a real controller (TestFederation) and the SPIRE-style bundle endpoint test server.
 */
class FederationCommandsTest {
    private static final String SPIRE = "spire.example";

    @TempDir
    Path dir;
    private TestFederation federation;
    private BundleEndpointTestServer spire;
    private Map<String, String> env;
    private RealControllerCli cli;
    private Path caFile;

    @BeforeEach
    void start() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"));
        cli = RealControllerCli.adminOf(federation, dir.resolve("home"));
        env = cli.env();
        spire = BundleEndpointTestServer.start(BundleEndpointTestServer.Profile.HTTPS_WEB, SPIRE,
                InetAddress.getLoopbackAddress());
        caFile = Files.writeString(dir.resolve("spire-web-ca.pem"), spire.webCaPem());
    }

    @AfterEach
    void stop() {
        spire.close();
        federation.close();
    }


    private Result run(String... args) {
        return cli.run(args);
    }

    private Result ok(String... args) {
        return cli.ok(args);
    }

    @Test
    void federateListStatusAndDelete() {
        assertThat(ok("trust", "federation", "list").out()).isEqualTo("no federation; add one with meshfed trust"
                + " federate\n");
        Result federated = ok("trust", "federate", SPIRE, "--bundle-endpoint", spire.url().toString(), "--profile",
                "https_web", "--ca-file", caFile.toString());
        assertThat(federated.out()).containsPattern("spire\\.example +https_web +https://127\\.0\\.0\\.1:\\d+/ +ok +1 +1 ");
        assertThat(ok("trust", "federation", "list").out()).containsPattern("spire\\.example +https_web .* ok ");
        assertThat(ok("trust", "federation", "list", "-o", "json").out()).contains("\"state\": \"ok\"")
                .contains("\"x509Authorities\": 1");
        assertThat(ok("status").out()).contains("SPIFFE federations:").containsPattern("spire\\.example .* ok ");

        // The federated trust domain can be named in an export (a name with dots is a trust domain).
        assertThat(run("export", "hello.demo", "--to", "other.example").err()).isEqualTo("meshfed: this controller"
                + " does not federate with trust domain other.example; meshfed trust federate other.example"
                + " --bundle-endpoint URL --profile ... first\n");
        assertThat(ok("export", "hello.demo", "--to", SPIRE).out()).containsPattern("hello\\.demo +spire\\.example");
        assertThat(ok("unexport", "hello.demo", "--to", SPIRE).out()).containsPattern("hello\\.demo +nobody");

        spire.serveRaw("garbage");
        Result failing = ok("trust", "federate", SPIRE, "--bundle-endpoint", spire.url().toString(), "--profile",
                "https_web", "--ca-file", caFile.toString());
        assertThat(failing.out()).contains("failing").contains("not a valid bundle of spire.example");

        assertThat(ok("trust", "federation", "delete", SPIRE).out()).isEqualTo("deleted federation with "
                + SPIRE + "\n");
        assertThat(ok("status").out()).doesNotContain("SPIFFE federations:");
    }

    @Test
    void badInputIsOneLineNamingTheProblem() {
        Result noProfile = run("trust", "federate", SPIRE, "--bundle-endpoint", spire.url().toString());
        assertThat(noProfile.exit()).isEqualTo(2);
        assertThat(noProfile.err()).contains("--profile");
        Result noFile = run("trust", "federate", SPIRE, "--bundle-endpoint", spire.url().toString(), "--profile",
                "https_web", "--ca-file", dir.resolve("nope.pem").toString());
        assertThat(noFile.exit()).isEqualTo(2);
        assertThat(noFile.err()).isEqualTo("meshfed: cannot read " + dir.resolve("nope.pem") + ": no such file\n");
        Result profile = run("trust", "federate", SPIRE, "--bundle-endpoint", spire.url().toString(), "--profile",
                "web");
        assertThat(profile.exit()).isEqualTo(1);
        assertThat(profile.err()).isEqualTo("meshfed: profile: unknown profile 'web'; use https_web or"
                + " https_spiffe\n");
        Result own = run("trust", "federate", "acme.mesh", "--bundle-endpoint", spire.url().toString(), "--profile",
                "https_web");
        assertThat(own.exit()).isEqualTo(1);
        assertThat(own.err()).contains("trust domain acme.mesh is this federation's own");
        Result unknown = run("trust", "federation", "delete", "nobody.example");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).contains("no federation with trust domain nobody.example");
    }
}
