package io.meshfed.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.AdminFiles;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.SvidFiles;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer;
import java.io.PrintWriter;
import java.io.StringWriter;
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
    private Path caFile;

    @BeforeEach
    void start() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"));
        Path home = Files.createDirectories(dir.resolve("home"));
        SvidFiles.write(federation.adminSvid(), home.resolve(AdminFiles.CERTIFICATE), home.resolve(AdminFiles.KEY));
        Files.writeString(home.resolve(AdminFiles.BUNDLE), SpiffeBundleJson.encode(
                federation.identity.bundle(TestFederation.FEDERATION_TD)));
        String address = federation.address().getHostString() + ":" + federation.address().getPort();
        Files.writeString(home.resolve(AdminFiles.CONFIG), "{\"controllerAddress\": \"" + address
                + "\", \"trustDomain\": \"" + TestFederation.FEDERATION_TD + "\"}\n");
        env = Map.of(AdminFiles.HOME_VARIABLE, home.toString());
        spire = BundleEndpointTestServer.start(BundleEndpointTestServer.Profile.HTTPS_WEB, SPIRE,
                InetAddress.getLoopbackAddress());
        caFile = Files.writeString(dir.resolve("spire-web-ca.pem"), spire.webCaPem());
    }

    @AfterEach
    void stop() {
        spire.close();
        federation.close();
    }

    record Result(int exit, String out, String err) {}

    private Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
        return new Result(code, out.toString(), err.toString());
    }

    private Result ok(String... args) {
        Result r = run(args);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        return r;
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
