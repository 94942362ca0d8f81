package io.meshfed.bench;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.client.Joiner;
import io.meshfed.client.NodeSession;
import io.meshfed.client.StateDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * Sets up the federation that bench/gateway/run.sh measures: networks east and west with their gateway
 * addresses, members east and west, hello.demo in east at the benchmark's backend (registered as a plain endpoint,
 * as the HAProxy pair's ingress reaches its backend) exported to west, one gateway join token per network,
 * written owner-only to {@code WORK/east.token} and {@code WORK/west.token}, and for bench/edge/run.sh an edge
 * token for east ({@code WORK/east-edge.token}) and the route {@code /lb/**} to {@code lb://hello.demo}.
 *
 * <pre>java -cp benchmarks.jar io.meshfed.bench.GatewayBenchSetup WORK CONTROLLER EAST_GW WEST_GW BACKEND</pre>
 */
public final class GatewayBenchSetup {
    private GatewayBenchSetup() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: GatewayBenchSetup WORK CONTROLLER EAST_GW WEST_GW BACKEND_HOST:PORT");
            System.exit(2);
        }
        Path work = Path.of(args[0]);
        String controller = args[1];
        String[] backend = args[4].split(":");
        Map<String, String> env = Map.of("MESHFED_HOME", work.resolve("home").toString());
        String agentToken;
        try (AdminClient admin = AdminClient.connect(env)) {
            var stub = admin.stub();
            stub.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress(args[2]).build());
            stub.createNetwork(CreateNetworkRequest.newBuilder().setName("west").setGatewayAddress(args[3]).build());
            for (String m : List.of("east", "west")) {
                stub.addMember(AddMemberRequest.newBuilder().setName(m).setType("vm").setNetwork(m).build());
                Path token = work.resolve(m + ".token");
                Files.writeString(token, stub.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember(m)
                        .setRole(Role.ROLE_GATEWAY).build()).getToken());
                Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            }
            agentToken = stub.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east")
                    .setRole(Role.ROLE_AGENT).addServices("hello.demo").build()).getToken();
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
        }
        StateDir state = new StateDir(work.resolve("registrar"));
        Joiner.join(controller, agentToken, new Joiner.Identity(Role.ROLE_AGENT, "east", "bench-backend", "demo",
                List.of()), state, Clock.systemUTC());
        try (NodeSession session = NodeSession.open(state, Clock.systemUTC())) {
            RegistrationServiceGrpc.newBlockingStub(session.channel()).reportWorkloads(WorkloadReport.newBuilder()
                    .addWorkloads(WorkloadInstance.newBuilder().setService("hello").setNamespace("demo")
                            .setAddress(backend[0]).setPort(Integer.parseInt(backend[1])).setHealthy(true)).build());
        }
        System.out.println("bench federation ready: hello.demo at " + args[4] + " exported to west");
    }
}
