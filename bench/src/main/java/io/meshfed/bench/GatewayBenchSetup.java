package io.meshfed.bench;

import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.RegisterClusterRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.controller.connector.kubernetes.Mcs;
import io.meshfed.controller.testing.MockCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Sets up the federation that bench/gateway/run.sh measures and keeps it running until it is stopped: networks east
 * and west with their gateway addresses; member west (VMs) and member east, a Kubernetes cluster served by an
 * in-process mock API server whose EndpointSlice puts hello.demo at the benchmark's backend (an endpoint the
 * controller reads itself is reached in plain TCP, as the HAProxy pair's ingress reaches its backend; an agent's
 * report never is) exported to west; one gateway join token per network, written owner-only to
 * {@code WORK/east.token} and {@code WORK/west.token}, and for bench/edge/run.sh an edge token for east
 * ({@code WORK/east-edge.token}) and the route {@code /lb/**} to {@code lb://hello.demo}.
 *
 * <p>With the three optional arguments it adds the tunnel pair: networks east-t, whose admin-set address comes with
 * a tunnel listener ({@code EAST_T_TUNNEL}), so other networks reach it through HTTP/2 CONNECT tunnels, and west-t;
 * member east-t, a second mock cluster whose hello-t.demo is the same backend, exported to member west-t (VMs) only;
 * tokens {@code WORK/east-t.token} and {@code WORK/west-t.token}. The two pairs serve different services, so neither
 * network imports the other pair's routes. east's address has no tunnel listener: west reaches it by SNI only.
 *
 * <p>Prints {@code bench federation ready} once the controller lists every backend.
 *
 * <pre>java -cp benchmarks.jar io.meshfed.bench.GatewayBenchSetup WORK CONTROLLER EAST_GW WEST_GW BACKEND \
 *     [EAST_T_GW EAST_T_TUNNEL WEST_T_GW]</pre>
 */
public final class GatewayBenchSetup {
    private GatewayBenchSetup() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 5 && args.length != 8) {
            System.err.println("usage: GatewayBenchSetup WORK CONTROLLER EAST_GW WEST_GW BACKEND_HOST:PORT"
                    + " [EAST_T_GW EAST_T_TUNNEL WEST_T_GW]");
            System.exit(2);
        }
        Path work = Path.of(args[0]);
        String[] backend = args[4].split(":");
        boolean tunnelPair = args.length == 8;
        Map<String, String> env = Map.of("MESHFED_HOME", work.resolve("home").toString());
        MockCluster east = new MockCluster();
        Runtime.getRuntime().addShutdownHook(new Thread(east::close));
        publishBackend(east.client(), "hello", backend[0], Integer.parseInt(backend[1]));
        MockCluster eastT = tunnelPair ? new MockCluster() : null;
        if (eastT != null) {
            Runtime.getRuntime().addShutdownHook(new Thread(eastT::close));
            publishBackend(eastT.client(), "hello-t", backend[0], Integer.parseInt(backend[1]));
        }
        List<String> gatewayMembers = tunnelPair ? List.of("east", "west", "east-t", "west-t") : List.of("east", "west");
        List<String> services = tunnelPair ? List.of("hello", "hello-t") : List.of("hello");
        try (AdminClient admin = AdminClient.connect(env)) {
            var stub = admin.stub();
            stub.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress(args[2]).build());
            stub.createNetwork(CreateNetworkRequest.newBuilder().setName("west").setGatewayAddress(args[3]).build());
            stub.registerCluster(RegisterClusterRequest.newBuilder().setName("east").setNetwork("east")
                    .addCidrs("127.0.0.0/8") // the backend is on loopback: the admin allows it explicitly
                    .setKubeconfig(east.kubeconfig("bench")).build());
            stub.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
            if (tunnelPair) {
                stub.createNetwork(CreateNetworkRequest.newBuilder().setName("east-t").setGatewayAddress(args[5])
                        .setTunnelAddress(args[6]).build());
                stub.createNetwork(CreateNetworkRequest.newBuilder().setName("west-t").setGatewayAddress(args[7])
                        .build());
                stub.registerCluster(RegisterClusterRequest.newBuilder().setName("east-t").setNetwork("east-t")
                        .addCidrs("127.0.0.0/8").setKubeconfig(eastT.kubeconfig("bench")).build());
                stub.addMember(AddMemberRequest.newBuilder().setName("west-t").setType("vm").setNetwork("west-t")
                        .build());
                stub.export(ExportRequest.newBuilder().setService("hello-t").setNamespace("demo")
                        .addToMembers("west-t").build());
            }
            for (String m : gatewayMembers) {
                Path token = work.resolve(m + ".token");
                Files.writeString(token, stub.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember(m)
                        .setRole(Role.ROLE_GATEWAY).build()).getToken());
                Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            }
            Path edgeToken = work.resolve("east-edge.token");
            Files.writeString(edgeToken, stub.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east")
                    .setRole(Role.ROLE_EDGE).build()).getToken());
            Files.setPosixFilePermissions(edgeToken,
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            // The edge benchmark's federated route: /lb/** -> lb://hello.demo (the backend, in the edge's network).
            stub.applyRoutes(io.meshfed.api.v1.RouteSet.newBuilder().addRoutes(io.meshfed.api.v1.Route.newBuilder()
                    .setId("lb").setUri("lb://hello.demo")
                    .addPredicates(io.meshfed.api.v1.RouteDefinition.newBuilder().setName("Path")
                            .addArgs(io.meshfed.api.v1.RouteArg.newBuilder().setKey("_genkey_0").setValue("/lb/**")))
                    .addFilters(io.meshfed.api.v1.RouteDefinition.newBuilder().setName("StripPrefix")
                            .addArgs(io.meshfed.api.v1.RouteArg.newBuilder().setKey("_genkey_0").setValue("1"))))
                    .build());
            stub.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("west")
                    .build());
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(2);
            for (String service : services) {
                while (stub.listServices(io.meshfed.api.v1.ListRequest.getDefaultInstance()).getServicesList()
                        .stream().noneMatch(x -> x.getName().equals(service) && x.getNetworksCount() > 0)) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the controller did not list " + service + ".demo from its"
                                + " cluster within 2 minutes; see the controller's log");
                    }
                    Thread.sleep(200);
                }
            }
        }
        System.out.println("bench federation ready: hello.demo at " + args[4] + " exported to west"
                + (tunnelPair ? ", hello-t.demo at " + args[4] + " exported to west-t" : ""));
        new java.util.concurrent.CountDownLatch(1).await(); // the mock API server serves until the process is stopped
    }

    /** NAME.demo in a mock cluster: a Service, its EndpointSlice at the backend, and a ServiceExport. */
    private static void publishBackend(KubernetesClient k, String name, String host, int port) {
        k.services().inNamespace("demo").resource(new ServiceBuilder().withNewMetadata().withName(name)
                .withNamespace("demo").endMetadata().withNewSpec().addNewPort().withPort(port).withNewTargetPort(port)
                .endPort().endSpec().build()).create();
        k.discovery().v1().endpointSlices().inNamespace("demo").resource(new EndpointSliceBuilder().withNewMetadata()
                .withName(name + "-1").withNamespace("demo").addToLabels("kubernetes.io/service-name", name)
                .endMetadata().withAddressType("IPv4").addNewEndpoint().withAddresses(host).withNewConditions()
                .withReady(true).endConditions().endEndpoint().addNewPort().withName("http").withPort(port)
                .withProtocol("TCP").endPort().build()).create();
        k.genericKubernetesResources(Mcs.SERVICE_EXPORT).inNamespace("demo").resource(
                new GenericKubernetesResourceBuilder().withApiVersion("multicluster.x-k8s.io/v1alpha1")
                        .withKind("ServiceExport").withNewMetadata().withName(name).withNamespace("demo")
                        .endMetadata().build()).create();
    }
}
