package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.FederateTrustDomainRequest;
import io.meshfed.api.v1.FederationState;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.controller.federation.BundleFetcher;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer.Profile;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The refresher's own fetches, on the controller's fake time (nothing here waits for real time to pass a deadline):
 * with no {@code spiffe_refresh_hint} the next fetch is 5 minutes later; a refresh that fails keeps the last good
 * bundle, records why (list and status) and is retried 30 s later, and the retry that succeeds takes the new bundle
 * and clears the error. An answer over the body limit is refused without being read whole.
 */
class FederationRefreshTest {
    private static final String SPIRE = "spire.example";

    @TempDir
    Path dir;
    private TestFederation federation;
    private BundleEndpointTestServer spire;

    @AfterEach
    void stop() {
        if (spire != null) {
            spire.close();
        }
        if (federation != null) {
            federation.close();
        }
    }

    private void start(boolean fakeTime) throws Exception {
        federation = fakeTime ? TestFederation.withFakeTime(dir.resolve("controller"), Duration.ofSeconds(30))
                : TestFederation.start(dir.resolve("controller"));
        spire = BundleEndpointTestServer.start(Profile.HTTPS_WEB, SPIRE, InetAddress.getLoopbackAddress());
    }

    private FederationState federate() throws Exception {
        return federation.admin().federateTrustDomain(FederateTrustDomainRequest.newBuilder().setTrustDomain(SPIRE)
                .setBundleEndpoint(spire.url().toString()).setProfile("https_web").setCaPem(spire.webCaPem())
                .build());
    }

    private FederationState listed() throws Exception {
        return federation.admin().listFederations(ListRequest.getDefaultInstance()).getFederationsList().stream()
                .filter(f -> f.getTrustDomain().equals(SPIRE)).findFirst().orElseThrow();
    }

    /** Moves fake time by {@code d}; then no fetch may have started (given a moment to start, were it due). */
    private void forwardWithoutFetch(Duration d, int requestsBefore) throws Exception {
        federation.forwardTime(d);
        Thread.sleep(300);
        assertThat(spire.requests()).as("fetches after " + d).isEqualTo(requestsBefore);
    }

    @Test
    void withoutARefreshHintTheNextFetchIsFiveMinutesLater() throws Exception {
        start(true);
        spire.refreshHint(null);
        FederationState first = federate();
        assertThat(first.getState()).as(first.toString()).isEqualTo("ok");
        assertThat(spire.requests()).isEqualTo(1);
        assertThat(first.getNextRefresh().getSeconds() - first.getLastSuccess().getSeconds())
                .isBetween(299L, 300L);
        spire.rotate();
        forwardWithoutFetch(Duration.ofSeconds(299), 1);
        federation.forwardTime(Duration.ofSeconds(1));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(spire.requests()).isEqualTo(2);
            assertThat(listed().getX509Authorities()).isEqualTo(2);
        });
    }

    @Test
    void aFailedRefreshKeepsTheLastGoodBundleSaysWhyAndIsRetried() throws Exception {
        start(true);
        spire.refreshHint(Duration.ofMinutes(2));
        assertThat(federate().getState()).isEqualTo("ok");
        long goodSequence = spire.sequence();

        spire.rotate();
        spire.serveRaw("{\"keys\": [ garbage");
        forwardWithoutFetch(Duration.ofSeconds(119), 1);
        federation.forwardTime(Duration.ofSeconds(1));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(spire.requests()).isEqualTo(2);
            FederationState failing = listed();
            assertThat(failing.getState()).isEqualTo("failing");
            assertThat(failing.getLastError()).contains("not a valid bundle of " + SPIRE);
        });
        FederationState failing = listed();
        assertThat(failing.getSequence()).isEqualTo(goodSequence);
        assertThat(failing.getX509Authorities()).isEqualTo(1); // the last good bundle, not the rotated one
        assertThat(federation.admin().status(ListRequest.getDefaultInstance()).getFederationsList())
                .singleElement().satisfies(f -> {
                    assertThat(f.getState()).isEqualTo("failing");
                    assertThat(f.getLastError()).isEqualTo(failing.getLastError());
                });

        // Retried 30 s later (not at the 2-minute hint); the endpoint has recovered by then.
        spire.serveRaw(null);
        forwardWithoutFetch(Duration.ofSeconds(29), 2);
        federation.forwardTime(Duration.ofSeconds(1));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(spire.requests()).isEqualTo(3);
            FederationState ok = listed();
            assertThat(ok.getState()).isEqualTo("ok");
            assertThat(ok.getLastError()).isEmpty();
            assertThat(ok.getX509Authorities()).isEqualTo(2);
        });
    }

    @Test
    void anAnswerOverTheBodyLimitIsRefusedKeepingTheLastGood() throws Exception {
        start(false);
        assertThat(federate().getState()).isEqualTo("ok");
        spire.serveRaw("{\"keys\": [], \"pad\": \"" + "x".repeat(BundleFetcher.MAX_BYTES) + "\"}");
        FederationState refused = federate();
        assertThat(refused.getState()).isEqualTo("failing");
        assertThat(refused.getLastError()).contains(Integer.toString(BundleFetcher.MAX_BYTES)).contains("bytes");
        assertThat(refused.getX509Authorities()).isEqualTo(1);
        assertThat(refused.getSequence()).isEqualTo(spire.sequence());
    }
}
