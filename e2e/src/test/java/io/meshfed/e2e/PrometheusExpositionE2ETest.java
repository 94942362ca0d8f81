package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prometheus' own linter, {@code promtool check metrics} (Debian's prometheus package; .ci/run installs it), on the
 * /metrics of every component of the running quickstart, after traffic went through each of them: the controller,
 * both east-west gateways, both agents and the edge gateway. Each must pass with no problem reported.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PrometheusExpositionE2ETest {
    @TempDir
    static Path work;
    private RunningQuickstart quickstart;

    @BeforeAll
    void start() throws Exception {
        io.meshfed.trust.testing.RequiredTool.require("promtool", "prometheus");
        quickstart = RunningQuickstart.start(work);
        // Traffic through the edge, both gateways and both agents, so that their per-request meters exist.
        for (String target : new String[] {quickstart.field("hello.demo from outside through the edge gateway"),
            quickstart.field("echo.demo from outside through the edge gateway"),
            quickstart.field("hello.demo from west through both gateways")}) {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> !PlainHttp
                    .get(target.contains("/") ? target + "metrics" : target).isEmpty());
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (quickstart != null) {
            quickstart.close();
        }
    }

    private static String scrape(HttpClient client, String url) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(url).isEqualTo(200);
        return r.body();
    }

    /** {@code promtool check metrics} on {@code exposition}: its exit code and what it printed. */
    private static Processes.Result promtool(String exposition) throws Exception {
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Processes.Result(p.exitValue(), out, "");
    }

    private static void assertLintFree(String component, String exposition) throws Exception {
        assertThat(exposition).as(component).contains("# HELP ");
        Processes.Result lint = promtool(exposition);
        assertThat(lint.stdout()).as("promtool on " + component + "'s metrics").isEmpty();
        assertThat(lint.exitCode()).as(component).isZero();
    }

    @Test
    void everyComponentsMetricsPassPromtool() throws Exception {
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        assertLintFree("east gateway", scrape(plain, "http://127.0.1.1:15021/metrics"));
        assertLintFree("west gateway", scrape(plain, "http://127.0.2.1:15021/metrics"));
        assertLintFree("east agent", scrape(plain, "http://127.0.1.2:15020/metrics"));
        assertLintFree("west agent", scrape(plain, "http://127.0.2.2:15020/metrics"));
        String edge = scrape(plain, "http://127.0.0.1:15022/actuator/prometheus");
        assertThat(edge).contains("spring_cloud_gateway_requests_seconds_count{").contains("route_id=\"");
        assertLintFree("edge gateway", edge);

        // The controller's HTTPS port, verified as a scraper does: by the federation's root, with no client cert.
        Path home = Path.of(quickstart.env.get("MESHFED_HOME"));
        var federation = SpiffeBundleJson.decode(TrustDomain.parse("meshfed.local"),
                Files.readString(home.resolve(io.meshfed.api.AdminFiles.BUNDLE)));
        TestPki anyone = TestPki.create("scraper.example", Instant.now());
        SSLContext tls = SSLContext.getInstance("TLSv1.3");
        tls.init(null, new TrustManager[] {new SpiffeTrustManager(TlsCredentials.of(anyone.svid("/scraper"),
                BundleSet.of(federation)), PeerAuthorizer.anyVerified(), Clock.systemUTC())}, new SecureRandom());
        assertLintFree("controller", scrape(HttpClient.newBuilder().sslContext(tls).build(),
                "https://127.0.0.1:15014/metrics"));
    }
}
