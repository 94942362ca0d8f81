package io.meshfed.controller.connector.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.RegisterClusterRequest;
import io.meshfed.controller.testing.TestFederation;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * RegisterCluster refuses a connector kubeconfig that would make the controller run a command or read one of its
 * host's files while loading it (fabric8 does both), naming the entry; the command never runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectorKubeconfigTest {
    @TempDir
    Path dir;
    private TestFederation federation;

    @BeforeAll
    void start() throws Exception {
        federation = TestFederation.start(Files.createTempDirectory("connector-kubeconfig"));
    }

    @AfterAll
    void stop() {
        federation.close();
    }

    private static String kubeconfig(String user, String cluster) {
        return "apiVersion: v1\nkind: Config\nclusters: [{name: a, cluster: {server: \"https://127.0.0.1:6443\""
                + cluster + "}}]\nusers: [{name: connector, user: " + user + "}]\n"
                + "contexts: [{name: a, context: {cluster: a, user: connector}}]\ncurrent-context: a\n";
    }

    private StatusRuntimeException register(String kubeconfig) {
        return org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class, () -> federation.admin()
                .registerCluster(RegisterClusterRequest.newBuilder().setName("east").setNetwork("east")
                        .setKubeconfig(kubeconfig).build()));
    }

    @Test
    void anExecCommandIsRefusedAndNeverRuns() {
        Path ran = dir.resolve("exec-ran");
        StatusRuntimeException e = register(kubeconfig("{exec: {apiVersion: client.authentication.k8s.io/v1,"
                + " command: /bin/sh, args: [\"-c\", \"touch " + ran + "\"]}}", ""));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).contains("user 'connector' runs a command (exec)");
        assertThat(ran).doesNotExist();
    }

    @Test
    void filesOfTheControllersHostAreRefused() throws Exception {
        Path secret = Files.writeString(dir.resolve("host-secret"), "not for the cluster");
        assertThat(register(kubeconfig("{tokenFile: " + secret + "}", "")).getStatus().getDescription())
                .contains("user 'connector' names a token file");
        assertThat(register(kubeconfig("{client-certificate: " + secret + ", client-key: " + secret + "}", ""))
                .getStatus().getDescription()).contains("names client certificate files");
        assertThat(register(kubeconfig("{token: t}", ", certificate-authority: " + secret)).getStatus()
                .getDescription()).contains("cluster 'a' names a CA file");
        assertThat(register(kubeconfig("{auth-provider: {name: oidc}}", "")).getStatus().getDescription())
                .contains("uses an auth-provider");
    }

    /** fabric8 probes a server given without a scheme (found by ConnectorKubeconfigFuzzTest's SSRF detector). */
    @Test
    void aServerWithoutSchemeIsRefusedWithoutAConnection() throws Exception {
        try (java.nio.channels.ServerSocketChannel listener = java.nio.channels.ServerSocketChannel.open()) {
            listener.bind(new java.net.InetSocketAddress("127.0.0.1", 0)).configureBlocking(false);
            String server = "127.0.0.1:" + listener.socket().getLocalPort();
            String kubeconfig = kubeconfig("{token: t}", "").replace("\"https://127.0.0.1:6443\"", server);

            assertThat(register(kubeconfig).getStatus().getDescription())
                    .contains("cluster 'a' server '" + server + "' must be an https:// (or http://) URL");
            assertThat(listener.accept()).as("no connection was opened while registering").isNull();
        }
    }

    @Test
    void inlineCredentialsStillPassTheCheck() {
        ConnectorKubeconfig.checkInline(kubeconfig("{token: t}", ", certificate-authority-data: \"Zm9v\""));
        assertThatThrownBy(() -> ConnectorKubeconfig.checkInline(kubeconfig("{tokenFile: /etc/passwd}", "")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
