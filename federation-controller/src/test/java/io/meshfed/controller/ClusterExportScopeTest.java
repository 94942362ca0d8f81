package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegisterClusterRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.connector.kubernetes.Mcs;
import io.meshfed.controller.testing.MockCluster;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12 review: whoever controls a member cluster (or one namespace of it) creates a Service and a ServiceExport
 * named like another member's never-exported service. The cluster's ServiceExport becomes an export offered by that
 * cluster, covering its own instances only: the other member's instances stay callable by that member alone, until an
 * admin's export decides otherwise.
 */
class ClusterExportScopeTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void aClustersServiceExportDoesNotExportAnotherMembersService() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(30));
                MockCluster evil = new MockCluster()) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("vm-net")
                    .setGatewayAddress("127.0.30.1:15443").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("vms").setType("vm").setNetwork("vm-net").build());
            // The VM member serves db.demo behind its agent; the admin exports it to nobody.
            var agent = federation.memberSvid("vms.acme.mesh", "/ns/demo/vm/vm-1");
            RegistrationServiceGrpc.newBlockingStub(federation.channel(agent)).reportWorkloads(WorkloadReport
                    .newBuilder().addWorkloads(WorkloadInstance.newBuilder().setService("db").setNamespace("demo")
                            .setAddress("127.0.0.1").setPort(5432).setHealthy(true).setInbound("127.0.0.1:15006"))
                    .build());
            admin.registerCluster(RegisterClusterRequest.newBuilder().setName("cluster-a").setNetwork("net-a")
                    .setGatewayAddress("127.0.10.1:15443").setKubeconfig(evil.kubeconfig("token-of-cluster-a"))
                    .build());

            try (TestSubscriber vmGateway = new TestSubscriber(federation.channel(federation.memberSvid(
                    "vms.acme.mesh", "/meshfed/gateway/gw")))) {
                ConfigSnapshot before = vmGateway.awaitSnapshot(s -> allowed(s, "db") != null, WAIT);
                assertThat(allowed(before, "db")).containsExactly("vms.acme.mesh");

                // The attacker, in its own cluster: a Service named db in demo (no endpoints) and a ServiceExport.
                KubernetesClient c = evil.client();
                c.services().inNamespace("demo").resource(new ServiceBuilder().withNewMetadata().withName("db")
                        .withNamespace("demo").endMetadata().withNewSpec().withType("ClusterIP").addNewPort()
                        .withPort(5432).endPort().endSpec().build()).create();
                c.genericKubernetesResources(Mcs.SERVICE_EXPORT).inNamespace("demo").resource(
                        new GenericKubernetesResourceBuilder().withApiVersion("multicluster.x-k8s.io/v1alpha1")
                                .withKind("ServiceExport").withNewMetadata().withName("db").withNamespace("demo")
                                .endMetadata().build()).create();
                await().atMost(WAIT).until(() -> validCondition(c, "db"), "True"::equals);
                // The connector recorded the cluster's offer; every push after it is what the VM gateway holds.
                await().atMost(WAIT).until(() -> exportOf(admin, "db").getOfferedBy().equals("cluster-a"));
                // What the VM member's gateway is given now, computed from the store as every push is.
                ConfigSnapshot after = io.meshfed.controller.catalog.SnapshotBuilder.build(
                        io.meshfed.controller.catalog.CatalogView.load(federation.controller().store(),
                                new io.meshfed.controller.identity.TrustState(federation.identity)), "vms", "vm-net");
                assertThat(allowed(after, "db"))
                        .as("the VM member's db.demo stays callable by the VM member only")
                        .containsExactly("vms.acme.mesh");
                assertThat(exportOf(admin, "db").getToAll()).as("the cluster's offer is to all...").isTrue();
                assertThat(exportOf(admin, "db").getOfferedBy()).as("...of its own instances only")
                        .isEqualTo("cluster-a");

                // An admin's decision covers every member's instances.
                admin.export(io.meshfed.api.v1.ExportRequest.newBuilder().setService("db").setNamespace("demo")
                        .addToMembers("cluster-a").build());
                vmGateway.awaitSnapshot(s -> allowed(s, "db") != null && allowed(s, "db")
                        .contains("cluster-a.acme.mesh"), WAIT);
            }
        }
    }

    private static io.meshfed.api.v1.ExportState exportOf(io.meshfed.api.v1.AdminServiceGrpc.AdminServiceBlockingStub
            admin, String name) {
        return admin.listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                .filter(s -> s.getName().equals(name)).findFirst().orElseThrow().getExport();
    }

    private static List<String> allowed(ConfigSnapshot s, String service) {
        if (s == null) {
            return null;
        }
        return s.getAuthorizationList().stream().filter(p -> p.getService().equals(service)).findFirst()
                .map(AuthorizationPolicy::getAllowedTrustDomainsList).orElse(null);
    }

    @SuppressWarnings("unchecked")
    private static String validCondition(KubernetesClient c, String name) {
        GenericKubernetesResource e = c.genericKubernetesResources(Mcs.SERVICE_EXPORT).inNamespace("demo")
                .withName(name).get();
        Object status = e == null ? null : e.getAdditionalProperties().get("status");
        if (!(status instanceof Map<?, ?> m) || !(m.get("conditions") instanceof List<?> conditions)) {
            return null;
        }
        for (Object o : conditions) {
            Map<String, Object> cond = (Map<String, Object>) o;
            if ("Valid".equals(cond.get("type"))) {
                return String.valueOf(cond.get("status"));
            }
        }
        return null;
    }
}
