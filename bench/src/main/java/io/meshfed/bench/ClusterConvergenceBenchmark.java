package io.meshfed.bench;

import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegisterClusterRequest;
import io.meshfed.controller.connector.kubernetes.Mcs;
import io.meshfed.controller.testing.MockCluster;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Convergence from a Kubernetes change to the data plane: C member clusters (fabric8's mock API server each, CRUD
 * mode) with S exported services of E endpoints each, one gateway subscriber per cluster network. A round flips the
 * readiness of one endpoint in cluster 0's EndpointSlice; measured is the time until the last subscriber has
 * received and ACKed a snapshot showing the new healthy count. Also the time of the initial sync (every subscriber
 * sees every other cluster's services).
 *
 * <pre>java -cp bench/target/benchmarks.jar io.meshfed.bench.ClusterConvergenceBenchmark [clusters] [services]
 *     [endpoints] [rounds]</pre>
 */
public final class ClusterConvergenceBenchmark {
    private ClusterConvergenceBenchmark() {}

    public static void main(String[] args) throws Exception {
        int clusters = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int services = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        int endpoints = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        Path dir = Files.createTempDirectory("meshfed-convergence");
        List<MockCluster> mocks = new ArrayList<>();
        List<TestSubscriber> gateways = new ArrayList<>();
        // Each cluster exports up to 500 services: every member may hold every service port.
        try (TestFederation f = TestFederation.start(dir, c -> c.withMemberPortQuota(900))) {
            long setup = System.nanoTime();
            for (int c = 0; c < clusters; c++) {
                MockCluster m = new MockCluster();
                mocks.add(m);
                for (int s = 0; s < services; s++) {
                    create(m.client(), "svc-" + c + "-" + s, endpoints, -1);
                }
                System.out.printf("cluster %d: %d services with %d endpoints created (%.1f s)%n", c, services,
                        endpoints, (System.nanoTime() - setup) / 1e9);
            }
            long start = System.nanoTime();
            for (int c = 0; c < clusters; c++) {
                f.admin().registerCluster(RegisterClusterRequest.newBuilder().setName("k" + c).setNetwork("n" + c)
                        .setGatewayAddress("127.0." + (c + 1) + ".1:15443")
                        .setKubeconfig(mocks.get(c).kubeconfig("bench")).build());
            }
            for (int c = 0; c < clusters; c++) {
                gateways.add(new TestSubscriber(f.channel(f.memberSvid("k" + c + ".acme.mesh",
                        "/meshfed/gateway/gw")), "", x -> false));
            }
            int expected = clusters * services;
            for (TestSubscriber g : gateways) {
                g.awaitSnapshot(x -> x.getServicesCount() == expected, Duration.ofMinutes(30));
            }
            System.out.printf("initial sync: %d clusters x %d services x %d endpoints visible to %d gateways in"
                    + " %.1f s%n", clusters, services, endpoints, clusters, (System.nanoTime() - start) / 1e9);
            // Then every connector's first import sync (ServiceImport, Service and EndpointSlice per imported
            // service) must be done, so the rounds measure a change, not the initial load.
            long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
            while (f.admin().listClusters(ListRequest.getDefaultInstance()).getClustersList().stream()
                    .anyMatch(x -> !x.getState().equals("synced"))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("clusters did not all sync: " + f.admin().listClusters(
                            ListRequest.getDefaultInstance()));
                }
                Thread.sleep(200);
            }
            System.out.printf("every cluster synced its imports (%s) after %.1f s%n",
                    f.admin().listClusters(ListRequest.getDefaultInstance()).getClustersList().stream()
                            .map(x -> x.getName() + ":" + x.getImportedServices()).toList(),
                    (System.nanoTime() - start) / 1e9);

            long[] millis = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                int healthy = r % 2 == 0 ? endpoints - 1 : endpoints;
                long t0 = System.nanoTime();
                slice(mocks.get(0).client(), "svc-0-0", endpoints, r % 2 == 0 ? 0 : -1);
                long last = t0;
                for (int g = 1; g < gateways.size(); g++) {
                    gateways.get(g).awaitSnapshot(x -> healthy(x, "svc-0-0") == healthy, Duration.ofMinutes(5));
                    last = Math.max(last, gateways.get(g).acceptedAtNanos());
                }
                millis[r] = (last - t0) / 1_000_000;
            }
            Arrays.sort(millis);
            System.out.printf("EndpointSlice change -> ACK by all %d other gateways: p50 %d ms, p99 %d ms, max %d ms"
                    + " (%d rounds)%n", clusters - 1, millis[rounds / 2], millis[Math.min(rounds - 1,
                            (int) Math.ceil(rounds * 0.99) - 1)], millis[rounds - 1], rounds);
        } finally {
            gateways.forEach(TestSubscriber::close);
            mocks.forEach(MockCluster::close);
        }
    }

    private static int healthy(ConfigSnapshot s, String service) {
        return s.getServicesList().stream().filter(x -> x.getName().equals(service))
                .flatMap(x -> x.getNetworksList().stream()).mapToInt(n -> n.getHealthyEndpoints()).sum();
    }

    private static void create(KubernetesClient c, String name, int endpoints, int notReady) {
        c.services().inNamespace("bench").resource(new ServiceBuilder().withNewMetadata().withName(name)
                .withNamespace("bench").endMetadata().withNewSpec().addNewPort().withPort(80).withNewTargetPort(8080)
                .endPort().endSpec().build()).create();
        c.discovery().v1().endpointSlices().inNamespace("bench").resource(slice(name, endpoints, notReady)).create();
        c.genericKubernetesResources(Mcs.SERVICE_EXPORT).inNamespace("bench").resource(
                new GenericKubernetesResourceBuilder().withApiVersion("multicluster.x-k8s.io/v1alpha1")
                        .withKind("ServiceExport").withNewMetadata().withName(name).withNamespace("bench")
                        .endMetadata().build()).create();
    }

    private static void slice(KubernetesClient c, String name, int endpoints, int notReady) {
        EndpointSlice current = c.discovery().v1().endpointSlices().inNamespace("bench").withName(name + "-1").get();
        EndpointSlice next = slice(name, endpoints, notReady);
        next.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
        c.discovery().v1().endpointSlices().inNamespace("bench").resource(next).update();
    }

    private static EndpointSlice slice(String name, int endpoints, int notReady) {
        EndpointSliceBuilder b = new EndpointSliceBuilder().withNewMetadata().withName(name + "-1")
                .withNamespace("bench").addToLabels("kubernetes.io/service-name", name).endMetadata()
                .withAddressType("IPv4");
        for (int i = 0; i < endpoints; i++) {
            b.addNewEndpoint().withAddresses("10." + (name.hashCode() & 0x7f) + "." + (i / 250) + "." + (i % 250 + 1))
                    .withNewConditions().withReady(i != notReady).endConditions().endEndpoint();
        }
        return b.addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort().build();
    }
}
