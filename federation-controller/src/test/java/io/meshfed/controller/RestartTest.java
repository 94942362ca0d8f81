package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.store.StoreSettings;
import io.meshfed.controller.store.postgres.PostgresLocation;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestPostgres;
import io.meshfed.controller.testing.TestSubscriber;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.X509Svid;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restarted controller restores every member, token state, CA and export, and subscribers resync: on the embedded
 * SQLite store and on a PostgreSQL database.
 */
class RestartTest {
    @TempDir
    Path dir;

    @Test
    void everythingIsRestoredAndSubscribersResync() throws Exception {
        restoresEverything(java.util.function.UnaryOperator.identity());
        assertThat(dir.resolve("state.db")).exists();
    }

    @Test
    void everythingIsRestoredFromPostgresql() throws Exception {
        try (TestPostgres postgres = TestPostgres.start()) {
            PostgresLocation database = postgres.newDatabase();
            Path passwordFile = dir.resolve("pg-password");
            java.nio.file.Files.writeString(passwordFile, TestPostgres.PASSWORD + "\n");
            java.nio.file.Files.setPosixFilePermissions(passwordFile,
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            StoreSettings settings = new StoreSettings(database.toString(),
                    StoreSettings.Password.fromFile(passwordFile));
            restoresEverything(c -> c.withStore(settings));
            assertThat(dir.resolve("state.db")).as("the state is in PostgreSQL, not in the data directory")
                    .doesNotExist();
            try (var store = io.meshfed.controller.store.postgres.PostgresStore.open(database,
                    TestPostgres.PASSWORD)) {
                assertThat(store.list("Member")).extracting(io.meshfed.controller.store.Resource::name)
                        .contains("east");
            }
        }
    }

    private void restoresEverything(java.util.function.UnaryOperator<ControllerConfig> store) throws Exception {
        try (TestFederation federation = TestFederation.start(dir, store)) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress("127.0.1.1:15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").setToAll(true).build());
            String usedToken = federation.agentToken("east", "demo", "hello.demo");
            X509Svid agent = federation.join(usedToken, Role.ROLE_AGENT, "east", "vm-1",
                    SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/vm/vm-1")).svid();
            String unusedToken = federation.token("east", Role.ROLE_GATEWAY);
            RegistrationServiceGrpc.newBlockingStub(federation.channel(agent)).reportWorkloads(WorkloadReport
                    .newBuilder().addWorkloads(WorkloadInstance.newBuilder().setService("hello").setNamespace("demo")
                            .setAddress("10.0.1.5").setPort(8080).setHealthy(true).setInbound("10.0.1.5:15006"))
                    .build());
            X509Svid gateway = federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw");
            String version;
            try (TestSubscriber s = new TestSubscriber(federation.channel(gateway))) {
                version = s.awaitSnapshot(x -> x.getServicesCount() == 1, Duration.ofSeconds(20)).getVersion();
            }
            var membersBefore = admin.listMembers(ListRequest.getDefaultInstance());
            var servicesBefore = admin.listServices(ListRequest.getDefaultInstance());
            long revision = federation.controller().store().revision();

            federation.restart();

            var after = federation.admin();
            assertThat(after.listMembers(ListRequest.getDefaultInstance())).isEqualTo(membersBefore);
            assertThat(after.listServices(ListRequest.getDefaultInstance())).isEqualTo(servicesBefore);
            // Nothing changed but the replicas' own bookkeeping (the leader lease, the presence record).
            assertThat(federation.controller().store().changesSince(revision, 1000))
                    .allSatisfy(c -> assertThat(c.kind()).isIn("Lease", "Replica"));
            // The same CAs: an SVID issued before the restart still works for mTLS.
            RegistrationServiceGrpc.newBlockingStub(federation.channel(agent)).reportWorkloads(WorkloadReport
                    .newBuilder().addWorkloads(WorkloadInstance.newBuilder().setService("hello").setNamespace("demo")
                            .setAddress("10.0.1.5").setPort(8080).setHealthy(true).setInbound("10.0.1.5:15006"))
                    .build());
            // Token state: the used one stays used, the unused one still works.
            assertThatThrownBy(() -> federation.join(usedToken, Role.ROLE_AGENT, "east", "vm-2",
                    SpiffeId.parse("spiffe://east.acme.mesh/ns/default/vm/vm-2")))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("token_used");
            assertThat(federation.join(unusedToken, Role.ROLE_GATEWAY, "east", "gw-2",
                    SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw-2")).response().getSpiffeId())
                    .endsWith("/gw-2");
            // A subscriber that reconnects with the version it held is not sent the same content again.
            try (TestSubscriber s = new TestSubscriber(federation.channel(gateway), version, x -> false)) {
                assertThat(s.next(Duration.ofMillis(800))).isNull();
            }
        }
    }
}
