package io.meshfed.edge;

import static io.meshfed.edge.EdgeFixtures.def;
import static io.meshfed.edge.EdgeFixtures.named;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.controller.testing.TestFederation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Spring Cloud Gateway's reference documentation examples, with the predicate or filter written as the documentation
 * writes it (the shortcut form, and the fully expanded one where it shows both), each behind a Path predicate of its
 * own so the cases do not meet. Every one is checked at a real upstream (the recording backend) for its effect.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeDocumentedRoutesTest {
    private static final String DENVER_2017 = "2017-01-20T17:42:47.789-07:00[America/Denver]";
    private static final String DENVER_2017_NEXT_DAY = "2017-01-21T17:42:47.789-07:00[America/Denver]";
    private static final String DENVER_2117 = "2117-01-21T17:42:47.789-07:00[America/Denver]";
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    @TempDir
    static Path dir;
    private RecordingBackend backend;
    private TestFederation federation;
    private ConfigurableApplicationContext edge;
    private int port;

    /** A route {@code id} to the backend, for {@code /id/**}; the documented predicate or filter is added to it. */
    private Route.Builder route(String id) {
        return Route.newBuilder().setId(id).setUri(backend.uri()).addPredicates(def("Path", "/" + id + "/**"));
    }

    @BeforeAll
    void start() throws Exception {
        backend = new RecordingBackend("docs");
        federation = TestFederation.start(dir.resolve("controller"));
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
        RouteSet.Builder routes = RouteSet.newBuilder()
                // Predicates
                .addRoutes(route("after").addPredicates(def("After", DENVER_2017)))
                .addRoutes(route("before").addPredicates(def("Before", DENVER_2017)))
                .addRoutes(route("between").addPredicates(def("Between", DENVER_2017, DENVER_2017_NEXT_DAY)))
                .addRoutes(route("between-now").addPredicates(def("Between", DENVER_2017, DENVER_2117)))
                .addRoutes(route("cookie").addPredicates(def("Cookie", "chocolate", "ch.p")))
                .addRoutes(route("cookie-expanded").addPredicates(named("Cookie", "name", "chocolate", "regexp",
                        "ch.p")))
                .addRoutes(route("method").addPredicates(def("Method", "GET", "POST")))
                .addRoutes(route("method-expanded").addPredicates(named("Method", "methods[0]", "GET",
                        "methods[1]", "POST")))
                .addRoutes(route("query").addPredicates(def("Query", "green")))
                .addRoutes(route("query-regexp").addPredicates(def("Query", "red", "gree.")))
                .addRoutes(route("remote").addPredicates(def("RemoteAddr", "192.168.1.1/24")))
                .addRoutes(route("remote-local").addPredicates(def("RemoteAddr", "127.0.0.1/32")))
                .addRoutes(route("xforwarded").addPredicates(def("XForwardedRemoteAddr", "192.168.1.1/24")))
                // Filters
                .addRoutes(route("arp").addFilters(def("AddRequestParameter", "red", "blue")))
                .addRoutes(route("arh").addFilters(def("AddResponseHeader", "X-Response-Red", "Blue")))
                .addRoutes(route("map").addFilters(def("MapRequestHeader", "Blue", "X-Request-Red")))
                .addRoutes(route("prefix").addFilters(def("PrefixPath", "/mypath")))
                .addRoutes(route("redirect").addFilters(def("RedirectTo", "302", "https://acme.org")))
                .addRoutes(Route.newBuilder().setId("setpath").setUri(backend.uri())
                        .addPredicates(def("Path", "/red/{segment}")).addFilters(def("SetPath", "/{segment}")))
                .addRoutes(route("status").addFilters(def("SetStatus", "UNAUTHORIZED")))
                .addRoutes(route("status-code").addFilters(def("SetStatus", "401")))
                .addRoutes(route("dedupe").addFilters(def("DedupeResponseHeader",
                        "Access-Control-Allow-Credentials Access-Control-Allow-Origin"))
                        .addFilters(def("AddResponseHeader", "Access-Control-Allow-Origin", "https://a.example"))
                        .addFilters(def("AddResponseHeader", "Access-Control-Allow-Origin", "https://a.example")))
                .addRoutes(route("size").addFilters(named("RequestSize", "maxSize", "5000000")));
        admin.applyRoutes(routes.build());
        edge = EdgeFixtures.edge(federation, "west", dir.resolve("edge"));
        port = ((WebServerApplicationContext) edge).getWebServer().getPort();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> send("GET", "/after/ready", null)
                .statusCode() == 200);
        backend.clear();
    }

    @AfterAll
    void stop() {
        if (edge != null) {
            edge.close();
        }
        federation.close();
        backend.close();
    }

    private HttpResponse<String> send(String method, String pathAndQuery, String body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(10)).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private int status(String pathAndQuery, String... headers) throws Exception {
        return send("GET", pathAndQuery, null, headers).statusCode();
    }

    @Test
    void afterBeforeAndBetweenMatchOnTheirDatetimes() throws Exception {
        assertThat(send("GET", "/after/x", null).body()).isEqualTo("docs /after/x");
        assertThat(status("/before/x")).isEqualTo(404);
        assertThat(status("/between/x")).as("a day in 2017").isEqualTo(404);
        assertThat(status("/between-now/x")).isEqualTo(200);
    }

    @Test
    void cookieMatchesTheNamedCookieByItsRegexpInBothForms() throws Exception {
        for (String id : new String[] {"cookie", "cookie-expanded"}) {
            assertThat(status("/" + id + "/x", "Cookie", "chocolate=chip")).as(id).isEqualTo(200);
            assertThat(status("/" + id + "/x", "Cookie", "chocolate=mint")).as(id).isEqualTo(404);
            assertThat(status("/" + id + "/x")).as(id).isEqualTo(404);
        }
    }

    @Test
    void methodMatchesTheListedMethodsInBothForms() throws Exception {
        for (String id : new String[] {"method", "method-expanded"}) {
            assertThat(send("POST", "/" + id + "/x", "order").statusCode()).as(id).isEqualTo(200);
            assertThat(backend.next("/" + id + "/x").body()).isEqualTo("order");
            assertThat(send("DELETE", "/" + id + "/x", null).statusCode()).as(id).isEqualTo(404);
        }
    }

    @Test
    void queryMatchesAParameterAndOptionallyItsValue() throws Exception {
        assertThat(status("/query/x?green=1")).isEqualTo(200);
        assertThat(status("/query/x")).isEqualTo(404);
        assertThat(status("/query-regexp/x?red=green")).isEqualTo(200);
        assertThat(status("/query-regexp/x?red=blue")).isEqualTo(404);
    }

    @Test
    void remoteAddrAndXForwardedRemoteAddrMatchTheClientsNetwork() throws Exception {
        assertThat(status("/remote/x")).as("127.0.0.1 is not in 192.168.1.0/24").isEqualTo(404);
        assertThat(status("/remote-local/x")).isEqualTo(200);
        assertThat(status("/xforwarded/x", "X-Forwarded-For", "192.168.1.10")).isEqualTo(200);
        assertThat(status("/xforwarded/x", "X-Forwarded-For", "10.0.0.1")).isEqualTo(404);
    }

    @Test
    void requestFiltersChangeWhatTheUpstreamGets() throws Exception {
        assertThat(status("/arp/x")).isEqualTo(200);
        assertThat(backend.next("/arp/x?red=blue")).as("AddRequestParameter").isNotNull();
        assertThat(status("/map/x", "Blue", "sky")).isEqualTo(200);
        assertThat(backend.next("/map/x").header("X-Request-Red")).as("MapRequestHeader").isEqualTo("sky");
        assertThat(send("GET", "/prefix/x", null).body()).isEqualTo("docs /mypath/prefix/x");
        assertThat(send("GET", "/red/blue", null).body()).as("SetPath").isEqualTo("docs /blue");
    }

    @Test
    void responseFiltersChangeWhatTheClientGets() throws Exception {
        HttpResponse<String> added = send("GET", "/arh/x", null);
        assertThat(added.headers().firstValue("X-Response-Red")).contains("Blue");
        HttpResponse<String> redirected = send("GET", "/redirect/x", null);
        assertThat(redirected.statusCode()).isEqualTo(302);
        assertThat(redirected.headers().firstValue("Location")).contains("https://acme.org");
        assertThat(status("/status/x")).isEqualTo(401);
        assertThat(status("/status-code/x")).isEqualTo(401);
        assertThat(send("GET", "/dedupe/x", null).headers().allValues("Access-Control-Allow-Origin"))
                .containsExactly("https://a.example");
    }

    @Test
    void requestSizeRefusesABodyOverItsMaximum() throws Exception {
        assertThat(send("POST", "/size/x", "small").statusCode()).isEqualTo(200);
        HttpResponse<String> big = send("POST", "/size/x", "x".repeat(5_000_001), "Content-Type", "text/plain");
        assertThat(big.statusCode()).isEqualTo(413);
        assertThat(big.headers().firstValue("errorMessage").orElse("")).contains("permissible limit");
    }
}
