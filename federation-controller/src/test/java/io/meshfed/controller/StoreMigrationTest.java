package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.meshfed.controller.store.postgres.PostgresStore;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestPostgres;
import io.meshfed.controller.testing.TestSubscriber;
import io.meshfed.launcher.OneLineErrorHandler;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.X509Svid;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code meshfed controller migrate}: a federation on the embedded SQLite store moves to PostgreSQL and runs on from
 * there (members, exports, workloads, tokens, and SVIDs issued before the move); the refusals name their reason and
 * change nothing.
 */
class StoreMigrationTest {
    private static final TestPostgres postgres = TestPostgres.shared();
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    private static Run migrate(Map<String, String> env, String... args) {
        CommandLine cli = new CommandLine(new MigrateCommand(env));
        cli.setExecutionExceptionHandler(new OneLineErrorHandler("meshfed", ControllerMain::message, false));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static final Map<String, String> PASSWORD = Map.of("MESHFED_STORE_PASSWORD", TestPostgres.PASSWORD);

    @Test
    void aSqliteFederationMovesToPostgresqlAndRunsOnFromThere() throws Exception {
        String sqlite = "sqlite:" + dir.resolve("state.db");
        PostgresLocation database = postgres.newDatabase();
        X509Svid agent;
        String unusedToken;
        Object membersBefore;
        Object servicesBefore;
        try (TestFederation federation = TestFederation.start(dir)) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress("127.0.1.1:15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").setToAll(true).build());
            agent = federation.join(federation.agentToken("east", "demo", "hello.demo"), Role.ROLE_AGENT, "east",
                    "vm-1", SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/vm/vm-1")).svid();
            unusedToken = federation.token("east", Role.ROLE_GATEWAY);
            report(federation, agent);
            membersBefore = admin.listMembers(ListRequest.getDefaultInstance());
            servicesBefore = admin.listServices(ListRequest.getDefaultInstance());

            // While the controller runs, its store is refused, with the reason: nothing is copied.
            Run busy = migrate(PASSWORD, "--from", sqlite, "--to", database.toString());
            assertThat(busy.exit()).isEqualTo(1);
            assertThat(busy.err()).contains("is in use by another controller (process "
                    + ProcessHandle.current().pid() + ")");
        }
        try (PostgresStore target = PostgresStore.open(database, TestPostgres.PASSWORD)) {
            assertThat(target.revision()).as("the refused migration wrote nothing").isZero();
        }

        Run run = migrate(PASSWORD, "--from", sqlite, "--to", database.toString());
        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("Migrating " + sqlite + " (revision ").contains("read 1 Member")
                .containsPattern("Done: \\d+ resources of \\d+ kinds, read back and compared")
                .contains("--store " + database).doesNotContain(TestPostgres.PASSWORD);

        StoreSettings onPostgres = new StoreSettings(database.toString(),
                StoreSettings.Password.fromEnvironment("MESHFED_STORE_PASSWORD", TestPostgres.PASSWORD));
        java.nio.file.Files.delete(dir.resolve("state.db")); // the old store is gone: all that runs now is in PostgreSQL
        try (TestFederation federation = TestFederation.start(dir, c -> c.withStore(onPostgres))) {
            var admin = federation.admin();
            assertThat(admin.listMembers(ListRequest.getDefaultInstance())).isEqualTo(membersBefore);
            assertThat(admin.listServices(ListRequest.getDefaultInstance())).isEqualTo(servicesBefore);
            report(federation, agent); // an SVID issued before the move
            assertThat(federation.join(unusedToken, Role.ROLE_GATEWAY, "east", "gw-1",
                    SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw-1")).response().getSpiffeId())
                    .endsWith("/gw-1");
            X509Svid gateway = federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw");
            try (TestSubscriber s = new TestSubscriber(federation.channel(gateway))) {
                assertThat(s.awaitSnapshot(x -> x.getServicesCount() == 1, Duration.ofSeconds(20)).getServices(0)
                        .getName()).isEqualTo("hello");
            }
        }
        assertThat(dir.resolve("state.db")).doesNotExist();

        // A second migration into the same database is refused: it is not empty any more.
        try (var fresh = io.meshfed.controller.store.sqlite.SqliteStore.open(dir.resolve("state.db"))) {
            fresh.put("Member", "north", "{}", io.meshfed.controller.store.StoreTransaction.ABSENT);
        }
        Run again = migrate(PASSWORD, "--from", sqlite, "--to", database.toString());
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("the target store is not empty").contains("migrate into a new, empty database");
        try (PostgresStore target = PostgresStore.open(database, TestPostgres.PASSWORD)) {
            assertThat(target.get("Member", "north")).as("nothing of the refused copy landed").isEmpty();
        }
    }

    @Test
    void badLocationsAndMissingStoresAreRefusedWithTheirReason() {
        Run missing = migrate(PASSWORD, "--from", "sqlite:" + dir.resolve("nowhere/state.db"), "--to",
                postgres.newDatabase().toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("there is no SQLite store at " + dir.resolve("nowhere/state.db"));
        assertThat(dir.resolve("nowhere")).as("a missing source is not created").doesNotExist();

        Run password = migrate(Map.of(), "--from", "sqlite:/x.db", "--to", "postgres://u:hunter2@db/x");
        assertThat(password.exit()).isNotZero();
        assertThat(password.err()).contains("--to: the PostgreSQL URL must not carry a password")
                .doesNotContain("hunter2");

        try (var source = io.meshfed.controller.store.sqlite.SqliteStore.open(dir.resolve("a.db"))) {
            source.put("Member", "east", "{}", io.meshfed.controller.store.StoreTransaction.ABSENT);
        }
        PostgresLocation target = postgres.newDatabase();
        Run wrong = migrate(Map.of("MESHFED_STORE_PASSWORD", "wrong-one"), "--from", "sqlite:" + dir.resolve("a.db"),
                "--to", target.toString());
        assertThat(wrong.exit()).isEqualTo(1);
        assertThat(wrong.err()).contains("cannot open the store " + target)
                .contains("password authentication failed").doesNotContain("wrong-one");
        assertThat(wrong.out()).doesNotContain("wrong-one");
    }

    private static void report(TestFederation federation, X509Svid agent) throws Exception {
        RegistrationServiceGrpc.newBlockingStub(federation.channel(agent)).reportWorkloads(WorkloadReport.newBuilder()
                .addWorkloads(WorkloadInstance.newBuilder().setService("hello").setNamespace("demo")
                        .setAddress("10.0.1.5").setPort(8080).setHealthy(true).setInbound("10.0.1.5:15006"))
                .build());
    }
}
