package io.meshfed.bench;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.ConsulState;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegisterConsulRequest;
import io.meshfed.controller.connector.consul.testing.ConsulTestServer;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Convergence from a Consul change to the data plane: one Consul datacenter (the in-process test server, to
 * Consul's HTTP API) as a member, holding S services tagged meshfed-export with I instances each on their own
 * nodes, and G gateway subscribers, one per VM network. Measured: the initial sync (from join until every gateway
 * sees every service with all its instances healthy), then rounds that turn one instance's check critical or
 * passing again, until the last gateway has received and ACKed a snapshot with the new healthy count: the
 * blocking query's answer, the connector's write, the controller's snapshot build and push, the subscribers'
 * parse and ACK.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.meshfed.bench.ConsulConvergenceBenchmark [services] [instances]
 *     [gateways] [rounds]</pre>
 */
public final class ConsulConvergenceBenchmark {
    private ConsulConvergenceBenchmark() {}

    public static void main(String[] args) throws Exception {
        int services = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int instances = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int gatewayCount = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        Path dir = Files.createTempDirectory("meshfed-consul-convergence");
        List<TestSubscriber> gateways = new ArrayList<>();
        try (TestFederation f = TestFederation.start(dir, c -> c.withMemberPortQuota(services + 10));
                ConsulTestServer consul = ConsulTestServer.start("dc1")) {
            long setup = System.nanoTime();
            for (int s = 0; s < services; s++) {
                for (int i = 0; i < instances; i++) {
                    String node = "vm-" + s + "-" + i;
                    consul.node(node, "10." + (s / 250) + "." + (s % 250) + "." + (i + 1), Map.of("region", "eu"));
                    consul.service(node, "svc-" + s + "-" + i, "svc-" + s, List.of("meshfed-export",
                            "meshfed-namespace=bench"), Map.of(), "", 8080, "passing");
                }
            }
            System.out.printf("consul: %d services with %d instances registered (%.1f s)%n", services, instances,
                    (System.nanoTime() - setup) / 1e9);
            for (int g = 0; g < gatewayCount; g++) {
                f.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("n" + g)
                        .setGatewayAddress("127.0." + (g + 1) + ".1:15443").build());
                f.admin().addMember(AddMemberRequest.newBuilder().setName("v" + g).setType("vm")
                        .setNetwork("n" + g).build());
                gateways.add(new TestSubscriber(f.channel(f.memberSvid("v" + g + ".acme.mesh",
                        "/meshfed/gateway/gw")), "", x -> false));
            }
            long start = System.nanoTime();
            f.admin().registerConsul(RegisterConsulRequest.newBuilder().setName("dc1").setNetwork("legacy")
                    .setAddress(consul.address().toString()).setGatewayAddress("127.0.100.1:15443").build());
            for (TestSubscriber g : gateways) {
                g.awaitSnapshot(x -> x.getServicesCount() == services
                        && healthy(x, "svc-" + (services - 1)) == instances, Duration.ofMinutes(30));
            }
            double initial = (System.nanoTime() - start) / 1e9;
            ConsulState state = f.admin().listConsul(ListRequest.getDefaultInstance()).getMembers(0);
            System.out.printf("initial sync: %d services x %d instances visible to %d gateways in %.1f s (member %s,"
                    + " %d services)%n", services, instances, gatewayCount, initial, state.getState(),
                    state.getExportedServices());

            long[] millis = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                int healthy = r % 2 == 0 ? instances - 1 : instances;
                long t0 = System.nanoTime();
                consul.check("service:svc-0-0", r % 2 == 0 ? "critical" : "passing");
                long last = t0;
                for (TestSubscriber g : gateways) {
                    g.awaitSnapshot(x -> healthy(x, "svc-0") == healthy, Duration.ofMinutes(5));
                    last = Math.max(last, g.acceptedAtNanos());
                }
                millis[r] = (last - t0) / 1_000_000;
            }
            Arrays.sort(millis);
            System.out.printf("Consul check change -> ACK by all %d gateways: p50 %d ms, p99 %d ms, max %d ms"
                    + " (%d rounds)%n", gatewayCount, millis[rounds / 2], millis[Math.min(rounds - 1,
                            (int) Math.ceil(rounds * 0.99) - 1)], millis[rounds - 1], rounds);
        } finally {
            gateways.forEach(TestSubscriber::close);
        }
    }

    private static int healthy(ConfigSnapshot s, String service) {
        return s.getServicesList().stream().filter(x -> x.getName().equals(service))
                .flatMap(x -> x.getNetworksList().stream()).mapToInt(n -> n.getHealthyEndpoints()).sum();
    }
}
