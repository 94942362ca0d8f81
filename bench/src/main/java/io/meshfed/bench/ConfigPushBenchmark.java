package io.meshfed.bench;

import io.grpc.ManagedChannel;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How long a change takes to reach every subscriber: an agent reports one endpoint's health flip; the time until the
 * last of N subscribers has received (and ACKed) the new snapshot. Real gRPC over mTLS on loopback, the real
 * controller with its SQLite store (or, with {@code postgres} last, an embedded PostgreSQL server of its own);
 * subscribers in this JVM. Also the heap the process holds with E endpoints.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.meshfed.bench.ConfigPushBenchmark
 *     push|push-delta|push-full|push-full-delta SUBSCRIBERS ENDPOINTS ROUNDS [sqlite|postgres]
 *     heap ENDPOINTS</pre>
 */
public final class ConfigPushBenchmark {
    private static final int MEMBERS = 10;
    /** The store the federations of this run use: the embedded SQLite file, unless PostgreSQL was asked for. */
    private static java.util.function.Supplier<io.meshfed.controller.store.StoreSettings> stores = () -> null;

    private ConfigPushBenchmark() {}

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "push";
        if (mode.equals("heap")) {
            for (String e : (args.length > 1 ? args[1] : "10000,100000").split(",")) {
                heap(Integer.parseInt(e));
            }
            return;
        }
        int endpoints = args.length > 2 ? Integer.parseInt(args[2]) : 5000;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        String store = args.length > 4 ? args[4] : "sqlite";
        if (!store.equals("sqlite") && !store.equals("postgres")) {
            throw new IllegalArgumentException("store must be sqlite or postgres, not '" + store + "'");
        }
        if (store.equals("postgres")) {
            io.meshfed.controller.testing.TestPostgres postgres = io.meshfed.controller.testing.TestPostgres.start();
            Runtime.getRuntime().addShutdownHook(new Thread(postgres::close, "bench-postgres-stop"));
            stores = () -> new io.meshfed.controller.store.StoreSettings(postgres.newDatabase().toString(),
                    io.meshfed.controller.store.StoreSettings.Password.fromEnvironment("MESHFED_STORE_PASSWORD",
                            io.meshfed.controller.testing.TestPostgres.PASSWORD));
        }
        System.out.println("store: " + store);
        boolean thin = mode.equals("push") || mode.equals("push-delta");
        boolean deltas = mode.endsWith("-delta");
        System.out.println((thin ? "thin subscribers (read version and nonce only)"
                : "full subscribers (parse every snapshot in this JVM)") + (deltas ? ", taking deltas" : ", whole"));
        System.out.println("subscribers  endpoints  rounds  p50_ms  p99_ms  max_ms  bytes_per_change_per_subscriber");
        for (String n : (args.length > 1 ? args[1] : "10,100,1000").split(",")) {
            if (thin) {
                pushThin(Integer.parseInt(n), endpoints, rounds, deltas).print();
            } else {
                push(Integer.parseInt(n), endpoints, rounds, deltas).print();
            }
        }
    }

    /**
     * A federation of 10 members in 2 networks with {@code endpoints} endpoints in 500 services, all exported. The
     * reporting agents (250 endpoints each, within a report's limit) never open a config stream, so their grace
     * period outlasts the run; each member may hold every service port.
     */
    static TestFederation federation(Path dir, int endpoints) throws Exception {
        io.meshfed.controller.store.StoreSettings store = stores.get();
        TestFederation f = TestFederation.start(dir, c -> {
            var config = c.withAgentGracePeriod(Duration.ofHours(12)).withMemberPortQuota(900);
            return store == null ? config : config.withStore(store);
        });
        var admin = f.admin();
        f.addNetworksAndMembers(2, MEMBERS);
        int agents = Math.max(1, endpoints / 250);
        for (int a = 0; a < agents; a++) {
            report(f, a, endpoints / agents, -1);
        }
        for (int s = 0; s < 500; s++) {
            admin.export(ExportRequest.newBuilder().setService("svc" + s).setNamespace("load").setToAll(true).build());
        }
        return f;
    }

    static void report(TestFederation f, int agent, int count, int unhealthy) throws Exception {
        List<WorkloadInstance> workloads = new ArrayList<>(count);
        for (int e = 0; e < count; e++) {
            workloads.add(WorkloadInstance.newBuilder().setService("svc" + ((agent * 7 + e) % 500)).setNamespace("load")
                    .setAddress("10." + (agent % 250) + "." + (e / 250) + "." + (e % 250)).setPort(8080)
                    .setHealthy(e != unhealthy).setInbound("10." + (agent % 250) + ".255." + (agent / 250) + ":15006")
                    .build());
        }
        ManagedChannel channel = f.channel(f.memberSvid("m" + (agent % MEMBERS) + ".acme.mesh", "/ns/load/vm/vm-" + agent));
        try {
            RegistrationServiceGrpc.newBlockingStub(channel).reportWorkloads(
                    WorkloadReport.newBuilder().addAllWorkloads(workloads).build());
        } finally {
            channel.shutdownNow();
        }
    }

    /** One configuration's figures: change to last ACK in ms, and bytes pushed per change per subscriber. */
    record Result(int subscribers, int endpoints, int rounds, long p50, long p99, long max, long bytesPerChange,
            long[] each) {
        static Result of(int subscribers, int endpoints, long[] millis, long bytesPerChange) {
            long[] sorted = millis.clone();
            Arrays.sort(sorted);
            int rounds = sorted.length;
            return new Result(subscribers, endpoints, rounds, sorted[rounds / 2],
                    sorted[Math.min(rounds - 1, (int) Math.ceil(rounds * 0.99) - 1)], sorted[rounds - 1],
                    bytesPerChange, millis.clone());
        }

        /** One line of the table, then each round's time in round order (the first runs colder code). */
        void print() {
            System.out.printf("%11d  %9d  %6d  %6d  %6d  %6d  %d%n", subscribers, endpoints, rounds, p50, p99, max,
                    bytesPerChange);
            System.out.println("  each round (ms): " + Arrays.toString(each));
        }
    }

    static Result push(int subscribers, int endpoints, int rounds, boolean deltas) throws Exception {
        Path dir = Files.createTempDirectory("meshfed-bench-push");
        try (TestFederation f = federation(dir, endpoints)) {
            List<TestSubscriber> subs = new ArrayList<>();
            for (int i = 0; i < subscribers; i++) {
                var channel = f.channel(f.memberSvid("m" + (i % MEMBERS) + ".acme.mesh", "/meshfed/gateway/gw-" + i));
                subs.add(deltas ? TestSubscriber.takingDeltas(channel, "", null, x -> false)
                        : new TestSubscriber(channel));
            }
            for (TestSubscriber s : subs) {
                s.awaitSnapshot(x -> x.getServicesCount() > 0, Duration.ofMinutes(5));
            }
            long[] millis = new long[rounds];
            int perAgent = endpoints / Math.max(1, endpoints / 250); // as federation() reported them
            long bytesBefore = subs.stream().mapToLong(ConfigPushBenchmark::bytes).sum();
            for (int r = 0; r < rounds; r++) {
                String[] before = subs.stream().map(s -> s.latest().getVersion()).toArray(String[]::new);
                long start = System.nanoTime();
                report(f, 0, perAgent, r % perAgent);
                long last = 0;
                for (int i = 0; i < subs.size(); i++) {
                    String old = before[i];
                    subs.get(i).awaitSnapshot(x -> !x.getVersion().equals(old), Duration.ofMinutes(5));
                    last = Math.max(last, subs.get(i).acceptedAtNanos());
                }
                millis[r] = (last - start) / 1_000_000;
            }
            long perChange = (subs.stream().mapToLong(ConfigPushBenchmark::bytes).sum() - bytesBefore)
                    / ((long) rounds * subscribers);
            subs.forEach(TestSubscriber::close);
            return Result.of(subscribers, endpoints, millis, perChange);
        }
    }

    private static long bytes(TestSubscriber s) {
        return s.messages().stream().mapToLong(io.meshfed.api.v1.ConfigSnapshot::getSerializedSize).sum();
    }

    static Result pushThin(int subscribers, int endpoints, int rounds, boolean deltas) throws Exception {
        Path dir = Files.createTempDirectory("meshfed-bench-push");
        try (TestFederation f = federation(dir, endpoints)) {
            List<ThinSubscriber> subs = new ArrayList<>();
            for (int i = 0; i < subscribers; i++) {
                subs.add(new ThinSubscriber(f.channel(f.memberSvid("m" + (i % MEMBERS) + ".acme.mesh",
                        "/meshfed/gateway/gw-" + i)), deltas));
            }
            for (ThinSubscriber s : subs) {
                await(() -> !s.version().isEmpty());
            }
            long[] millis = new long[rounds];
            int perAgent = endpoints / Math.max(1, endpoints / 250); // as federation() reported them
            long bytesBefore = subs.stream().mapToLong(ThinSubscriber::bytes).sum();
            for (int r = 0; r < rounds; r++) {
                String[] before = subs.stream().map(ThinSubscriber::version).toArray(String[]::new);
                long start = System.nanoTime();
                report(f, 0, perAgent, r % perAgent);
                long last = 0;
                for (int i = 0; i < subs.size(); i++) {
                    ThinSubscriber s = subs.get(i);
                    String old = before[i];
                    await(() -> !s.version().equals(old));
                    if (s.version().startsWith("error")) {
                        throw new IllegalStateException("subscriber " + i + " failed: " + s.version());
                    }
                    last = Math.max(last, s.receivedAtNanos());
                }
                millis[r] = (last - start) / 1_000_000;
            }
            long perChange = (subs.stream().mapToLong(ThinSubscriber::bytes).sum() - bytesBefore)
                    / ((long) rounds * subscribers);
            subs.forEach(ThinSubscriber::close);
            return Result.of(subscribers, endpoints, millis, perChange);
        }
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("a subscriber did not receive the change within 5 minutes");
            }
            Thread.sleep(1);
        }
    }

    static void heap(int endpoints) throws Exception {
        long baseline = usedAfterGc();
        Path dir = Files.createTempDirectory("meshfed-bench-heap");
        try (TestFederation f = federation(dir, endpoints)) {
            List<TestSubscriber> subs = new ArrayList<>();
            for (int m = 0; m < MEMBERS; m++) {
                subs.add(new TestSubscriber(f.channel(f.memberSvid("m" + m + ".acme.mesh", "/meshfed/gateway/gw"))));
            }
            for (TestSubscriber s : subs) {
                s.awaitSnapshot(x -> x.getServicesCount() > 0, Duration.ofMinutes(5));
            }
            long used = usedAfterGc() - baseline;
            System.out.printf("endpoints %7d: heap held %6.1f MiB (controller + 10 in-process subscribers holding"
                    + " their snapshots)%n", endpoints, used / 1048576.0);
            subs.forEach(TestSubscriber::close);
        }
    }

    private static long usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
