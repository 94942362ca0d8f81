package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ExportState;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover by locality across three networks, as the subscriber in network {@code home} (eu-west/a) receives it:
 * its own network first with its endpoints nearest first (own zone, own region, the rest); then the remote networks by
 * locality ({@code zulu} in eu-west before {@code alpha} in us-east, although alphabetically it comes later); an
 * export's {@code --failover} puts the networks it names first; an unknown failover network is refused by name; a
 * network whose endpoints are all unhealthy is skipped until they recover.
 */
class LocalityOrderTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private TestFederation federation;
    private AdminServiceGrpc.AdminServiceBlockingStub admin;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir);
        admin = federation.admin();
        for (String[] n : new String[][] {{"home", "127.0.1.1"}, {"zulu", "127.0.2.1"}, {"alpha", "127.0.3.1"}}) {
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName(n[0]).setGatewayAddress(n[1] + ":15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName(n[0]).setType("vm").setNetwork(n[0]).build());
        }
        endpoints("home", hello("10.1.0.3", "us-east/c", true), hello("10.1.0.2", "eu-west/b", true),
                hello("10.1.0.1", "eu-west/a", true), other("10.1.0.9", "eu-west/a"));
        endpoints("zulu", hello("10.2.0.1", "eu-west/b", true));
        endpoints("alpha", hello("10.3.0.1", "us-east/a", true));
        admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").setToAll(true).build());
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    private static WorkloadInstance hello(String address, String locality, boolean healthy) {
        return WorkloadInstance.newBuilder().setService("hello").setNamespace("demo").setAddress(address)
                .setPort(8080).setHealthy(healthy).setLocality(locality).build();
    }

    private static WorkloadInstance other(String address, String locality) {
        return WorkloadInstance.newBuilder().setService("other").setNamespace("demo").setAddress(address)
                .setPort(9090).setHealthy(true).setLocality(locality).build();
    }

    private void endpoints(String member, WorkloadInstance... instances) {
        federation.clusterEndpoints(member, WorkloadReport.newBuilder().addAllWorkloads(List.of(instances)).build());
    }

    private static Optional<Service> hello(ConfigSnapshot s) {
        return s.getServicesList().stream().filter(x -> x.getName().equals("hello")).findFirst();
    }

    private static List<String> networks(ConfigSnapshot s) {
        return hello(s).map(x -> x.getNetworksList().stream().map(NetworkEndpoints::getNetwork).toList())
                .orElse(List.of());
    }

    private static Predicate<ConfigSnapshot> order(String... networks) {
        return s -> networks(s).equals(List.of(networks));
    }

    @Test
    void ownZoneThenOwnRegionThenOtherRegions() throws Exception {
        try (TestSubscriber home = new TestSubscriber(federation.channel(
                federation.memberSvid("home.acme.mesh", "/meshfed/gateway/gw")))) {
            ConfigSnapshot s = home.awaitSnapshot(order("home", "zulu", "alpha"), WAIT);

            NetworkEndpoints own = hello(s).orElseThrow().getNetworks(0);
            assertThat(own.getLocal()).isTrue();
            assertThat(own.getEndpointsList()).extracting(Endpoint::getLocality)
                    .containsExactly("eu-west/a", "eu-west/b", "us-east/c");
            // Home imports hello from the other networks: its listener has a port of home's own.
            assertThat(s.getOutboundList()).singleElement().satisfies(l -> {
                assertThat(l.getService()).isEqualTo("hello");
                assertThat(l.getListenPort()).isBetween(20000, 32767);
            });
        }
    }

    @Test
    void failoverNetworksComeFirstInTheAdminsOrder() throws Exception {
        ExportState state = admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .addFailoverNetworks("alpha").build());
        assertThat(state.getFailoverNetworksList()).containsExactly("alpha");
        assertThat(state.getToAll()).isTrue(); // only the order changed

        try (TestSubscriber home = new TestSubscriber(federation.channel(
                federation.memberSvid("home.acme.mesh", "/meshfed/gateway/gw")))) {
            home.awaitSnapshot(order("home", "alpha", "zulu"), WAIT);

            // Taking it out of the order: back to locality.
            admin.unexport(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                    .addFailoverNetworks("alpha").build());
            home.awaitSnapshot(order("home", "zulu", "alpha"), WAIT);
        }
    }

    @Test
    void anUnknownFailoverNetworkIsRefusedByName() {
        assertThatThrownBy(() -> admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .setToAll(true).addFailoverNetworks("zulu").addFailoverNetworks("nowhere").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("failover network 'nowhere' does not exist");
                });
        assertThatThrownBy(() -> admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .addFailoverNetworks("zulu").addFailoverNetworks("zulu").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("'zulu' is named twice");
                });
        assertThat(admin.listServices(io.meshfed.api.v1.ListRequest.getDefaultInstance()).getServicesList().stream()
                .filter(x -> x.getName().equals("hello")).findFirst().orElseThrow().getExport()
                .getFailoverNetworksList()).as("nothing was written").isEmpty();
    }

    @Test
    void aNetworkWithEveryEndpointUnhealthyIsSkippedUntilItRecovers() throws Exception {
        try (TestSubscriber home = new TestSubscriber(federation.channel(
                federation.memberSvid("home.acme.mesh", "/meshfed/gateway/gw")))) {
            int port = home.awaitSnapshot(order("home", "zulu", "alpha"), WAIT).getOutbound(0).getListenPort();

            endpoints("zulu", hello("10.2.0.1", "eu-west/b", false));
            home.awaitSnapshot(order("home", "alpha"), WAIT);

            endpoints("zulu", hello("10.2.0.1", "eu-west/b", true));
            ConfigSnapshot back = home.awaitSnapshot(order("home", "zulu", "alpha"), WAIT);
            assertThat(back.getOutbound(0).getListenPort()).as("the port stays through the outage").isEqualTo(port);
        }
    }
}
