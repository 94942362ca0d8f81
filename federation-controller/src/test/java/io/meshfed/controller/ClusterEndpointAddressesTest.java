package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.RegisterClusterRequest;
import io.meshfed.controller.connector.kubernetes.Mcs;
import io.meshfed.controller.testing.MockCluster;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12 review: the connector's kubeconfig may create EndpointSlices, so its holder can add one to an exported
 * Service with loopback or cloud-metadata addresses. Endpoints the controller reads from a cluster are plain
 * upstreams, so such addresses are left out (counted as endpoint_refused) unless the admin gave the member CIDRs that
 * include them.
 */
class ClusterEndpointAddressesTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void anEndpointSliceCannotMakeTheGatewayDialLoopbackOrLinkLocalInPlainText() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(30));
                MockCluster a = new MockCluster()) {
            var admin = federation.admin();
            admin.registerCluster(RegisterClusterRequest.newBuilder().setName("cluster-a").setNetwork("net-a")
                    .setGatewayAddress("127.0.10.1:15443").setKubeconfig(a.kubeconfig("token-of-cluster-a")).build());
            KubernetesClient c = a.client();
            c.services().inNamespace("demo").resource(new ServiceBuilder().withNewMetadata().withName("hello")
                    .withNamespace("demo").endMetadata().withNewSpec().withType("ClusterIP").addNewPort()
                    .withPort(8080).endPort().endSpec().build()).create();
            c.discovery().v1().endpointSlices().inNamespace("demo").resource(slice("hello-real", "10.1.0.5", 8080))
                    .create();
            c.genericKubernetesResources(Mcs.SERVICE_EXPORT).inNamespace("demo").resource(
                    new GenericKubernetesResourceBuilder().withApiVersion("multicluster.x-k8s.io/v1alpha1")
                            .withKind("ServiceExport").withNewMetadata().withName("hello").withNamespace("demo")
                            .endMetadata().build()).create();

            try (TestSubscriber gateway = new TestSubscriber(federation.channel(federation.memberSvid(
                    "cluster-a.acme.mesh", "/meshfed/gateway/gw")))) {
                gateway.awaitSnapshot(s -> addresses(s).contains("10.1.0.5"), WAIT);

                // The connector's kubeconfig may create EndpointSlices: two more for hello, not labelled managed-by.
                c.discovery().v1().endpointSlices().inNamespace("demo")
                        .resource(slice("hello-loop", "127.0.0.1", 15022)).create();
                c.discovery().v1().endpointSlices().inNamespace("demo")
                        .resource(slice("hello-meta", "169.254.169.254", 80)).create();
                await().atMost(WAIT).until(() -> refusedEndpoints(federation) >= 2);
                ConfigSnapshot s = gateway.awaitSnapshot(x -> addresses(x).contains("10.1.0.5"), WAIT);
                assertThat(addresses(s)).as("plain upstreams the member's gateway would dial for hello.demo")
                        .doesNotContain("127.0.0.1", "169.254.169.254");
            }
        }
    }

    private static double refusedEndpoints(TestFederation federation) throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "meshfed_cluster_events_total\\{cluster=\"cluster-a\",event=\"endpoint_refused\"} ([0-9.]+)")
                .matcher(Http.get(federation, "/metrics").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static List<String> addresses(ConfigSnapshot s) {
        return s.getServicesList().stream().filter(x -> x.getName().equals("hello"))
                .flatMap(x -> x.getNetworksList().stream()).filter(n -> n.getLocal())
                .flatMap(n -> n.getEndpointsList().stream()).map(Endpoint::getAddress).toList();
    }

    private static io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice slice(String name, String address,
            int port) {
        return new EndpointSliceBuilder().withNewMetadata().withName(name).withNamespace("demo")
                .addToLabels("kubernetes.io/service-name", "hello").endMetadata().withAddressType("IPv4")
                .addNewEndpoint().withAddresses(address).withNewConditions().withReady(true).endConditions()
                .endEndpoint().addNewPort().withName("p").withPort(port).withProtocol("TCP").endPort().build();
    }
}
