package io.meshfed.controller.connector.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.controller.connector.consul.testing.ConsulAcl;
import io.meshfed.controller.connector.consul.testing.ConsulTestServer;
import io.meshfed.controller.model.WorkloadSetRecord.Workload;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The blocking-query watch of a Consul datacenter, against the Consul test server. */
class ConsulCatalogWatchTest {
    private static final Duration WAIT = Duration.ofSeconds(2);
    private ConsulTestServer consul;
    private ConsulConnection connection;
    private ConsulCatalogWatch watch;
    private final AtomicReference<List<Workload>> latest = new AtomicReference<>();
    private final AtomicReference<Set<String>> latestTagged = new AtomicReference<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private volatile Set<String> namedByPolicy = Set.of();

    @BeforeEach
    void start() throws Exception {
        consul = ConsulTestServer.start("dc1");
        connection = ConsulConnection.open(consul.address(), WAIT);
    }

    @AfterEach
    void stop() {
        if (watch != null) {
            watch.close();
        }
        connection.close();
        consul.close();
    }

    private void watch(NamespaceFrom from, String token) {
        watch("dc1", from, token);
    }

    private void watch(String datacenter, NamespaceFrom from, String token) {
        watch = new ConsulCatalogWatch("legacy", connection.client(), token, datacenter, from, () -> namedByPolicy,
                WAIT,
                new ConsulCatalogWatch.Listener() {
                    @Override
                    public void changed(ConsulCatalogWatch.Answer answer) {
                        latestTagged.set(answer.tagged());
                        latest.set(answer.workloads());
                    }

                    @Override
                    public void error(String reason) {
                        errors.add(reason);
                    }
                });
        watch.start();
    }

    private List<Workload> awaitWorkloads(java.util.function.Predicate<List<Workload>> p) {
        await().atMost(Duration.ofSeconds(20)).until(() -> latest.get() != null && p.test(latest.get()));
        return latest.get();
    }

    private void legacyFleet() {
        consul.node("vm-1", "10.0.0.1", Map.of("region", "eu-west-1", "zone", "eu-west-1a"));
        consul.node("vm-2", "10.0.0.2", Map.of("region", "eu-west-1", "zone", "eu-west-1b"));
        consul.service("vm-1", "billing-1", "billing", List.of("meshfed-export", "meshfed-namespace=shop"),
                Map.of(), "", 9000, "passing");
        consul.service("vm-2", "billing-2", "billing", List.of("meshfed-export", "meshfed-namespace=shop"),
                Map.of(), "10.0.0.22", 9000, "critical");
        consul.service("vm-1", "internal-1", "internal", List.of(), Map.of(), "10.0.0.1", 7000, "passing");
    }

    @Test
    void servicesTaggedForExportBecomeWorkloadsWithHealthNamespaceAndLocality() {
        legacyFleet();
        watch(NamespaceFrom.TAG, null);
        List<Workload> w = awaitWorkloads(l -> l.size() == 2);
        assertThat(w).as("the untagged service stays in Consul").allSatisfy(x ->
                assertThat(x.service()).isEqualTo("billing"));
        assertThat(w).containsExactly(
                new Workload("billing", "shop", "10.0.0.1", 9000, true, "eu-west-1/eu-west-1a", null,
                        ConsulInstances.PASSING_WEIGHT),
                new Workload("billing", "shop", "10.0.0.22", 9000, false, "eu-west-1/eu-west-1b", null,
                        ConsulInstances.PASSING_WEIGHT));
        assertThat(watch.synced()).isTrue();

        consul.check("service:billing-2", "passing");
        consul.check("service:billing-1", "warning");
        w = awaitWorkloads(l -> l.stream().allMatch(Workload::healthy));
        assertThat(w).extracting(Workload::address, Workload::weight).containsExactly(
                org.assertj.core.groups.Tuple.tuple("10.0.0.1", ConsulInstances.WARNING_WEIGHT),
                org.assertj.core.groups.Tuple.tuple("10.0.0.22", ConsulInstances.PASSING_WEIGHT));

        consul.check("serfHealth:vm-2", "critical");
        awaitWorkloads(l -> l.stream().filter(x -> x.address().equals("10.0.0.22")).noneMatch(Workload::healthy));
    }

    /**
     * The first answers of a starting watch: the catalog's (no instances yet) and then the service's. A listener that
     * is slow to act on the first (as the connector's executor may be) must not find it settled because the service
     * has been read meanwhile: a settled answer without the service's instances would sync the member with nothing.
     * Many starts, so that the service's answer lands at every point of the listener's work.
     */
    @Test
    void noAnswerIsSettledWithoutTheInstancesOfEveryExportedService() throws Exception {
        legacyFleet();
        for (int run = 0; run < 25; run++) {
            List<ConsulCatalogWatch.Answer> answers = new CopyOnWriteArrayList<>();
            long firstDelay = run % 5 * 5L;
            ConsulCatalogWatch w = new ConsulCatalogWatch("legacy", connection.client(), null, "dc1",
                    NamespaceFrom.TAG, Set::of, WAIT, new ConsulCatalogWatch.Listener() {
                        @Override
                        public void changed(ConsulCatalogWatch.Answer answer) {
                            if (answers.isEmpty()) {
                                sleepQuietly(firstDelay);
                            }
                            answers.add(answer);
                        }

                        @Override
                        public void error(String reason) {
                            errors.add(reason);
                        }
                    });
            w.start();
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> !answers.isEmpty()
                        && answers.get(answers.size() - 1).synced());
            } finally {
                w.close();
            }
            assertThat(answers).as("run %d: %s", run, answers).allSatisfy(a -> {
                if (a.settled()) {
                    assertThat(a.workloads()).hasSize(2);
                }
            });
            assertThat(answers.get(0).settled()).as("the catalog's answer, before billing was read").isFalse();
            assertThat(answers.get(answers.size() - 1).workloads()).hasSize(2);
        }
        assertThat(errors).isEmpty();
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void anExportPolicyNamesAServiceWithoutTheTagAndTheNamespaceCanComeFromMeta() {
        consul.node("vm-1", "10.0.0.1", Map.of());
        consul.service("vm-1", "ledger-1", "ledger", List.of(), Map.of("meshfed-namespace", "finance"), "", 7000,
                "passing");
        watch(NamespaceFrom.META, null);
        await().atMost(Duration.ofSeconds(10)).until(() -> watch.synced());
        assertThat(latest.get()).isNullOrEmpty();
        namedByPolicy = Set.of("ledger");
        watch.refresh();
        assertThat(awaitWorkloads(l -> l.size() == 1)).singleElement().satisfies(x -> {
            assertThat(x.namespace()).isEqualTo("finance");
            assertThat(x.locality()).isEmpty();
        });
        assertThat(latestTagged.get()).as("named by a policy, not offered by the datacenter").isEmpty();
        namedByPolicy = Set.of();
        watch.refresh();
        awaitWorkloads(List::isEmpty);
    }

    @Test
    void whatMeshfedPublishedIsNeverReadBackAsAnExport() {
        consul.node("meshfed-gateway-west", "127.0.0.9", Map.of());
        consul.service("meshfed-gateway-west", "meshfed-import-hello-demo-8080", "hello-demo",
                List.of("meshfed-import", "meshfed-export"), Map.of(), "127.0.0.9", 20001, "passing");
        consul.node("vm-1", "10.0.0.1", Map.of());
        consul.service("vm-1", "billing-1", "billing", List.of("meshfed-export"), Map.of(), "", 9000, "passing");
        namedByPolicy = Set.of("hello-demo");
        watch(NamespaceFrom.TAG, null);
        awaitWorkloads(l -> l.size() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> watch.synced());
        assertThat(latest.get()).as("what meshfed published, even tagged for export or named by a policy")
                .singleElement().satisfies(x -> assertThat(x.service()).isEqualTo("billing"));
    }

    @Test
    void untaggingOrDeregisteringWithdrawsAndBadReportsAreLeftOut() {
        legacyFleet();
        consul.service("vm-1", "bad-1", "Bad_Name", List.of("meshfed-export"), Map.of(), "10.0.0.1", 1, "passing");
        consul.service("vm-1", "billing-3", "billing", List.of("meshfed-export", "meshfed-namespace=NOT OK"),
                Map.of(), "10.0.0.3", 9000, "passing");
        watch(NamespaceFrom.TAG, null);
        List<Workload> w = awaitWorkloads(l -> l.size() == 2);
        assertThat(w).extracting(Workload::address).containsExactly("10.0.0.1", "10.0.0.22");
        consul.deregister("vm-2", "billing-2");
        awaitWorkloads(l -> l.size() == 1);
        consul.service("vm-1", "billing-1", "billing", List.of(), Map.of(), "", 9000, "passing");
        consul.deregister("vm-1", "billing-3");
        awaitWorkloads(List::isEmpty);
    }

    @Test
    void anIndexThatGoesBackwardsResetsAndTheWatchSeesChangesAfterTheRestart() throws Exception {
        legacyFleet();
        for (int i = 0; i < 20; i++) {
            consul.node("filler-" + i, "10.9.0." + i, Map.of());
        }
        watch(NamespaceFrom.TAG, null);
        awaitWorkloads(l -> l.size() == 2);
        consul.restart(); // the index is 1 again, far below what the watch holds
        consul.check("service:billing-2", "passing");
        awaitWorkloads(l -> l.stream().allMatch(Workload::healthy));
    }

    @Test
    void noBusyLoopWhileNothingChanges() throws Exception {
        legacyFleet();
        watch(NamespaceFrom.TAG, null);
        awaitWorkloads(l -> l.size() == 2);
        int before = consul.requests("/v1/health/service/billing") + consul.requests("/v1/catalog/services");
        Thread.sleep(3_000);
        int during = consul.requests("/v1/health/service/billing") + consul.requests("/v1/catalog/services") - before;
        // Each of the two watches waits 2 s (+ jitter) per query: at most 2 queries each in 3 s, not hundreds.
        assertThat(during).isLessThanOrEqualTo(6);
    }

    @Test
    void anOutageIsReportedWithItsReasonAndTheWatchCatchesUpWhenTheAgentIsBack() throws Exception {
        legacyFleet();
        watch(NamespaceFrom.TAG, null);
        awaitWorkloads(l -> l.size() == 2);
        consul.stop();
        await().atMost(Duration.ofSeconds(20)).until(() -> !errors.isEmpty());
        assertThat(errors.get(0)).contains("agent unreachable");
        assertThat(watch.synced()).isFalse();
        consul.check("service:billing-2", "passing"); // changes while the agent cannot be reached
        consul.resume();
        awaitWorkloads(l -> l.stream().allMatch(Workload::healthy));
        await().atMost(Duration.ofSeconds(20)).until(() -> watch.synced());
    }

    /**
     * 30 s without the agent: the backoff grows (1, 2, 4, 8, 16 s, with jitter) but stays bounded, the errors keep
     * coming with their reason, and the watch catches up with what changed meanwhile within the longest backoff.
     */
    @Test
    void thirtySecondsOfOutageAreCaughtUpWithinTheLongestBackoff() throws Exception {
        legacyFleet();
        watch(NamespaceFrom.TAG, null);
        awaitWorkloads(l -> l.size() == 2);
        consul.stop();
        Thread.sleep(30_000);
        int failed = errors.size();
        assertThat(failed).as("reported retries in 30 s, backing off").isBetween(3, 60);
        assertThat(errors).allSatisfy(e -> assertThat(e).contains("agent unreachable"));
        consul.check("service:billing-2", "passing");
        consul.resume();
        await().atMost(ConsulCatalogWatch.MAX_BACKOFF.plusSeconds(5))
                .until(() -> latest.get().stream().allMatch(Workload::healthy) && watch.synced());
    }

    @Test
    void aTokenWithoutTheRightsIsNamedInTheError() {
        legacyFleet();
        consul.enableAcls();
        watch(NamespaceFrom.TAG, "no-such-token");
        await().atMost(Duration.ofSeconds(10)).until(() -> !errors.isEmpty());
        assertThat(errors.get(0)).isEqualTo("catalog/services: HTTP 403 ACL not found");
        assertThat(watch.synced()).isFalse();
    }

    @Test
    void aTokenThatMayNotReadNodesSeesNoInstances() {
        legacyFleet();
        consul.enableAcls();
        String token = consul.createToken("services only",
                ConsulAcl.Rule.prefix("service", "", ConsulAcl.Access.READ));
        watch(NamespaceFrom.TAG, token);
        await().atMost(Duration.ofSeconds(10)).until(() -> watch.synced());
        assertThat(latest.get()).as("health reads need node:read too: Consul filters them out").isNullOrEmpty();
        assertThat(errors).as("the token was accepted (sent in X-Consul-Token)").isEmpty();
        assertThat(consul.tokensInUrl()).as("the token never travels in a URL").isZero();
    }

    @Test
    void aWrongDatacenterIsNamedInTheError() {
        watch("dc9", NamespaceFrom.TAG, null);
        await().atMost(Duration.ofSeconds(10)).until(() -> !errors.isEmpty());
        assertThat(errors.get(0)).isEqualTo("catalog/services: HTTP 500 No path to datacenter");
    }

    @Test
    void blockingIndexRules() {
        assertThat(BlockingIndex.next(0, 5L)).isEqualTo(5);
        assertThat(BlockingIndex.next(5, 5L)).isEqualTo(5);
        assertThat(BlockingIndex.next(5, 9L)).isEqualTo(9);
        assertThat(BlockingIndex.next(9, 3L)).as("backwards").isZero();
        assertThat(BlockingIndex.next(9, 0L)).isZero();
        assertThat(BlockingIndex.next(9, -1L)).isZero();
        assertThat(BlockingIndex.next(9, null)).isZero();
    }
}
