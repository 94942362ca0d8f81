package io.meshfed.controller.connector.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.meshfed.api.ServiceSni;
import io.meshfed.controller.model.WorkloadSetRecord;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What an API server sends is checked where the mesh relies on it: every exported workload can be named by a
 * {@link ServiceSni}, so a name that is not a DNS label, or a port outside 1-65535, is not exported (a real API server
 * never sends one; a member's could).
 */
class ExportedEndpointsTest {
    @Test
    void anExportedServiceBecomesWorkloadsOfItsPorts() {
        ExportedEndpoints.Result r = compute("demo", "hello", 8080, 9090);
        assertThat(r.workloads()).extracting(WorkloadSetRecord.Workload::port).containsExactly(8080, 9090);
        assertThat(r.exports()).singleElement().satisfies(e -> {
            assertThat(e.valid()).isTrue();
            assertThat(e.ports()).containsExactly(8080, 9090);
        });
        r.workloads().forEach(w -> new ServiceSni(w.port(), w.service(), w.namespace()));
    }

    @Test
    void aNameThatIsNotADnsLabelIsNotExportedAndTheExportSaysWhy() {
        for (String[] nsName : new String[][] {{"demo", "Hello"}, {"demo", "hello.world"}, {"Demo", "hello"}}) {
            ExportedEndpoints.Result r = compute(nsName[0], nsName[1], 8080);
            assertThat(r.workloads()).as(String.join("/", nsName)).isEmpty();
            assertThat(r.exports()).singleElement().satisfies(e -> {
                assertThat(e.valid()).isFalse();
                assertThat(e.reason()).isEqualTo("InvalidName");
                assertThat(e.message()).startsWith("service name and namespace must be DNS labels (lowercase letters");
            });
        }
    }

    @Test
    void portsOutsideTheRangeAreLeftOut() {
        ExportedEndpoints.Result r = compute("demo", "hello", 0, 8080, 70000, -1);
        assertThat(r.workloads()).extracting(WorkloadSetRecord.Workload::port).containsExactly(8080);
        assertThat(r.exports()).singleElement().satisfies(e -> assertThat(e.ports()).containsExactly(8080));
    }

    private static ExportedEndpoints.Result compute(String namespace, String name, int... ports) {
        GenericKubernetesResource export = new GenericKubernetesResourceBuilder()
                .withApiVersion("multicluster.x-k8s.io/v1alpha1").withKind("ServiceExport").withNewMetadata()
                .withName(name).withNamespace(namespace).endMetadata().build();
        Service service = new ServiceBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                .endMetadata().withNewSpec().withType("ClusterIP").endSpec().build();
        EndpointSliceBuilder slice = new EndpointSliceBuilder().withNewMetadata().withName(name + "-x1")
                .withNamespace(namespace).addToLabels(Mcs.K8S_SERVICE_NAME_LABEL, name).endMetadata()
                .withAddressType("IPv4").addNewEndpoint().withAddresses("10.1.0.5").endEndpoint();
        for (int port : ports) {
            slice.addNewPort().withName("p" + port).withPort(port).withProtocol("TCP").endPort();
        }
        EndpointSlice built = slice.build();
        return ExportedEndpoints.compute(List.of(export),
                key -> key.equals(namespace + "/" + name) ? Optional.of(service) : Optional.empty(), List.of(built));
    }
}
