package io.meshfed.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.meshfed.trust.tls.TlsProvider;
import org.junit.jupiter.api.Test;

/** The benchmarks' own machinery works, so a benchmark run measures handshakes and issuance, not failures. */
class BenchmarkSmokeTest {
    /** The push benchmark's rounds complete, and a delta subscriber is sent far less per change than a whole one. */
    @Test
    void configPushRoundsCompleteAndDeltasCarryOnlyTheChange() throws Exception {
        ConfigPushBenchmark.Result whole = ConfigPushBenchmark.pushThin(3, 500, 2, false);
        ConfigPushBenchmark.Result delta = ConfigPushBenchmark.pushThin(3, 500, 2, true);
        ConfigPushBenchmark.Result full = ConfigPushBenchmark.push(3, 500, 2, true);
        assertThat(whole.bytesPerChange()).isPositive();
        assertThat(delta.bytesPerChange()).isPositive().isLessThan(whole.bytesPerChange() / 5);
        assertThat(full.bytesPerChange()).isLessThan(whole.bytesPerChange() / 5);
    }

    @Test
    void memoryHandshakeCompletesWithTheJdkProvider() throws Exception {
        assertThat(TlsHandshakeBenchmark.once(TlsProvider.JDK)).isBetween(2, 10);
    }

    @Test
    void memoryHandshakeCompletesWithOpenSsl() throws Exception {
        assumeTrue(TlsProvider.openSslUsable());
        assertThat(TlsHandshakeBenchmark.once(TlsProvider.OPENSSL)).isBetween(2, 10);
    }

    @Test
    void issuanceBenchmarkIssuesVerifiableSvids() throws Exception {
        SvidIssuanceBenchmark b = new SvidIssuanceBenchmark();
        b.caKey = "ec-p256";
        b.setUp();
        assertThat(b.issueFromCsr().id().toString()).isEqualTo("spiffe://east.acme.mesh/ns/demo/sa/hello");
    }
}
