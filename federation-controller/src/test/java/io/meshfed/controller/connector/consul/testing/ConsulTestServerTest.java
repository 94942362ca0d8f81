package io.meshfed.controller.connector.consul.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.OperationException;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.Response;
import com.ecwid.consul.v1.catalog.model.CatalogRegistration;
import com.ecwid.consul.v1.catalog.model.CatalogService;
import com.ecwid.consul.v1.health.HealthServicesRequest;
import com.ecwid.consul.v1.health.model.HealthService;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pins the Consul test server to Consul's documented HTTP API (developer.hashicorp.com/consul/api-docs: "Blocking
 * Queries", "Catalog", "Health", "Agent Service", "Agent Check", "ACL Tokens"), driven by consul-api, the client the
 * connector uses, and by plain HTTP where headers and bodies matter.
 */
class ConsulTestServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private ConsulTestServer consul;
    private ConsulClient client;

    @BeforeEach
    void start() throws Exception {
        consul = ConsulTestServer.start("dc1");
        client = new ConsulClient("127.0.0.1", consul.port());
    }

    @AfterEach
    void stop() {
        consul.close();
    }

    @Test
    void catalogRegisterOfAnExternalServiceIsReadBackAsTheCatalogDocumentsIt() throws Exception {
        // The body of the documented "Register Entity" example, reduced to what an external service needs.
        CatalogRegistration r = new CatalogRegistration();
        r.setDatacenter("dc1");
        r.setNode("meshfed-gateway-west");
        r.setAddress("192.168.10.10");
        r.setNodeMeta(Map.of("external-node", "true"));
        CatalogRegistration.Service s = new CatalogRegistration.Service();
        s.setId("hello-demo-8080");
        s.setService("hello-demo");
        s.setTags(List.of("meshfed-import"));
        s.setAddress("192.168.10.10");
        s.setPort(20000);
        r.setService(s);
        client.catalogRegister(r);

        Response<List<CatalogService>> read = client.getCatalogService("hello-demo", QueryParams.DEFAULT);
        assertThat(read.getValue()).singleElement().satisfies(e -> {
            assertThat(e.getNode()).isEqualTo("meshfed-gateway-west");
            assertThat(e.getServiceId()).isEqualTo("hello-demo-8080");
            assertThat(e.getServiceAddress()).isEqualTo("192.168.10.10");
            assertThat(e.getServicePort()).isEqualTo(20000);
            assertThat(e.getServiceTags()).containsExactly("meshfed-import");
            assertThat(e.getNodeMeta()).containsEntry("external-node", "true");
        });
        assertThat(read.getConsulIndex()).isEqualTo(consul.index());
        assertThat(client.getCatalogServices(QueryParams.DEFAULT).getValue())
                .containsEntry("hello-demo", List.of("meshfed-import"));

        // An external service has no checks: health lists it with none, and ?passing keeps it (all of none pass).
        JsonNode health = get("/v1/health/service/hello-demo?passing").body;
        assertThat(health).hasSize(1);
        assertThat(health.get(0).path("Checks")).isEmpty();
        assertThat(health.get(0).path("Service").path("Weights").path("Passing").asInt()).isEqualTo(1);

        client.catalogDeregister(deregistration("meshfed-gateway-west", "hello-demo-8080"));
        assertThat(client.getCatalogService("hello-demo", QueryParams.DEFAULT).getValue()).isEmpty();
    }

    @Test
    void aBlockingReadReturnsWhenWhatItReadsChangesWithAHigherIndex() throws Exception {
        consul.node("n1", "10.0.0.1", Map.of("zone", "a"));
        consul.service("n1", "web-1", "web", List.of("meshfed-export"), Map.of(), "10.0.0.1", 8080, "passing");
        Response<List<HealthService>> first = client.getHealthServices("web", false, QueryParams.DEFAULT);
        long seen = first.getConsulIndex();

        CompletableFuture<Response<List<HealthService>>> blocked = CompletableFuture.supplyAsync(() ->
                client.getHealthServices("web", false, new QueryParams(60, seen)));
        Thread.sleep(300);
        assertThat(blocked).as("no change yet: the read is still waiting").isNotDone();
        // A change to another service does not wake a read of web (its own index did not move).
        consul.node("n2", "10.0.0.2", Map.of());
        consul.service("n2", "db-1", "db", List.of(), Map.of(), "10.0.0.2", 5432, "passing");
        Thread.sleep(300);
        assertThat(blocked).isNotDone();

        consul.check("service:web-1", "critical");
        Response<List<HealthService>> next = blocked.get(30, TimeUnit.SECONDS);
        assertThat(next.getConsulIndex()).isGreaterThan(seen);
        assertThat(next.getValue()).singleElement().satisfies(h -> assertThat(h.getChecks())
                .anySatisfy(c -> assertThat(c.getStatus().name()).isEqualTo("CRITICAL")));
    }

    @Test
    void aBlockingReadThatTimesOutAnswers200WithTheSameIndex() throws Exception {
        consul.node("n1", "10.0.0.1", Map.of());
        consul.service("n1", "web-1", "web", List.of(), Map.of(), "10.0.0.1", 8080, "passing");
        long seen = get("/v1/catalog/services").index;
        long before = System.nanoTime();
        Reply r = get("/v1/catalog/services?index=" + seen + "&wait=1s");
        assertThat(r.status).isEqualTo(200);
        assertThat(r.index).isEqualTo(seen);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before)).as("it waited for its wait")
                .isGreaterThanOrEqualTo(1000);
        assertThat(r.body.has("web")).isTrue();
        assertThat(consul.requests("/v1/catalog/services")).isEqualTo(2);
    }

    @Test
    void indexZeroDoesNotBlockAndTheIndexIsNeverBelowOne() throws Exception {
        Reply r = get("/v1/catalog/services?index=0&wait=30s");
        assertThat(r.status).isEqualTo(200);
        assertThat(r.index).isGreaterThanOrEqualTo(1);
        assertThat(r.headers.firstValue("X-Consul-KnownLeader")).hasValue("true");
    }

    @Test
    void aRestartedAgentAnswersWithALowerIndexThanTheClientHolds() throws Exception {
        for (int i = 0; i < 5; i++) {
            consul.node("n" + i, "10.0.0." + (i + 1), Map.of());
        }
        long held = get("/v1/catalog/services").index;
        assertThat(held).isGreaterThan(5);
        consul.restart();
        Reply r = get("/v1/catalog/services?index=" + held + "&wait=200ms");
        assertThat(r.status).isEqualTo(200);
        assertThat(r.index).as("the index went backwards: the client must reset to 0").isLessThan(held);
        assertThat(get("/v1/catalog/services?index=0").index).isEqualTo(r.index);
    }

    @Test
    void passingFiltersInstancesWithAnyCheckNotPassingAndAgentCheckUpdatesMoveThem() throws Exception {
        consul.node("n1", "10.0.0.1", Map.of("region", "eu-west-1", "zone", "eu-west-1a"));
        consul.node("n2", "10.0.0.2", Map.of());
        consul.service("n1", "legacy-1", "legacy", List.of("meshfed-export", "meshfed-namespace=shop"), Map.of(),
                "10.0.0.1", 9000, "passing");
        consul.service("n2", "legacy-2", "legacy", List.of("meshfed-export"), Map.of(), "10.0.0.2", 9000,
                "critical");

        HealthServicesRequest passing = HealthServicesRequest.newBuilder().setPassing(true)
                .setQueryParams(QueryParams.DEFAULT).build();
        assertThat(client.getHealthServices("legacy", passing).getValue()).extracting(h -> h.getService().getId())
                .containsExactly("legacy-1");
        HealthServicesRequest byTag = HealthServicesRequest.newBuilder().setTag("meshfed-namespace=shop")
                .setQueryParams(QueryParams.DEFAULT).build();
        assertThat(client.getHealthServices("legacy", byTag).getValue()).singleElement()
                .satisfies(h -> assertThat(h.getNode().getMeta()).containsEntry("zone", "eu-west-1a"));

        assertThat(put("/v1/agent/check/pass/service:legacy-2", "").status).isEqualTo(200);
        assertThat(client.getHealthServices("legacy", passing).getValue()).hasSize(2);
        put("/v1/agent/check/warn/service:legacy-1", "");
        assertThat(client.getHealthServices("legacy", passing).getValue()).as("warning is not passing")
                .extracting(h -> h.getService().getId()).containsExactly("legacy-2");
        Reply unknown = put("/v1/agent/check/fail/nope", "");
        assertThat(unknown.status).isEqualTo(404);
        assertThat(unknown.text).isEqualTo("Unknown check ID \"nope\". Ensure that the check ID is passed, not the"
                + " check name.");
    }

    @Test
    void agentServiceRegisterStartsCriticalUntilItsCheckPassesAndDeregisters() throws Exception {
        Reply r = put("/v1/agent/service/register", "{\"ID\":\"redis1\",\"Name\":\"redis\",\"Tags\":[\"primary\"],"
                + "\"Address\":\"127.0.0.1\",\"Port\":8000,\"Check\":{\"TTL\":\"15s\"}}");
        assertThat(r.status).isEqualTo(200);
        JsonNode health = get("/v1/health/service/redis").body;
        assertThat(health.get(0).path("Checks").findValuesAsText("Status")).contains("critical");
        put("/v1/agent/check/pass/service:redis1", "");
        assertThat(get("/v1/health/service/redis?passing").body).hasSize(1);
        assertThat(put("/v1/agent/service/deregister/redis1", "").status).isEqualTo(200);
        assertThat(get("/v1/health/service/redis").body).isEmpty();
        assertThat(put("/v1/agent/service/deregister/redis1", "").status).isEqualTo(404);
    }

    @Test
    void aclsTokenSelfFilteringAndPermissionDeniedBodies() throws Exception {
        Reply disabled = get("/v1/acl/token/self");
        assertThat(disabled.status).isEqualTo(401);
        assertThat(disabled.text).isEqualTo("ACL support disabled");

        consul.node("n1", "10.0.0.1", Map.of());
        consul.service("n1", "web-1", "web", List.of(), Map.of(), "10.0.0.1", 8080, "passing");
        consul.service("n1", "secret-1", "secret", List.of(), Map.of(), "10.0.0.1", 8080, "passing");
        consul.enableAcls();
        String reader = consul.createToken("meshfed reader",
                ConsulAcl.Rule.exact("service", "web", ConsulAcl.Access.READ),
                ConsulAcl.Rule.prefix("node", "", ConsulAcl.Access.READ));

        Reply self = get("/v1/acl/token/self", reader);
        assertThat(self.status).isEqualTo(200);
        assertThat(self.body.path("SecretID").asText()).isEqualTo(reader);
        assertThat(self.body.path("Description").asText()).isEqualTo("meshfed reader");
        assertThat(self.body.path("Policies").get(0).has("Name")).isTrue();
        Reply bad = get("/v1/acl/token/self", "not-a-token");
        assertThat(bad.status).isEqualTo(403);
        assertThat(bad.text).isEqualTo("ACL not found");
        assertThat(get("/v1/catalog/services", "not-a-token").text).isEqualTo("ACL not found");

        Reply services = get("/v1/catalog/services", reader);
        assertThat(services.status).as("reads are filtered, not refused").isEqualTo(200);
        assertThat(services.body.fieldNames()).toIterable().containsExactly("web");
        assertThat(services.headers.firstValue("X-Consul-Results-Filtered-By-ACLs")).hasValue("true");
        assertThat(get("/v1/catalog/services").body.size()).as("anonymous sees nothing").isZero();

        Reply write = put("/v1/catalog/register", "{\"Node\":\"meshfed-gateway-west\",\"Address\":\"10.9.0.1\"}",
                reader);
        assertThat(write.status).isEqualTo(403);
        assertThat(write.text).startsWith("Permission denied: token with AccessorID '")
                .endsWith("' lacks permission 'node:write' on \"meshfed-gateway-west\"");

        String writer = consul.createToken("meshfed writer",
                ConsulAcl.Rule.exact("node", "meshfed-gateway-west", ConsulAcl.Access.WRITE),
                ConsulAcl.Rule.prefix("service", "", ConsulAcl.Access.READ));
        Reply noServiceWrite = put("/v1/catalog/register", "{\"Node\":\"meshfed-gateway-west\",\"Address\":"
                + "\"10.9.0.1\",\"Service\":{\"Service\":\"hello-demo\",\"Port\":20000}}", writer);
        assertThat(noServiceWrite.status).isEqualTo(403);
        assertThat(noServiceWrite.text).endsWith("lacks permission 'service:write' on \"hello-demo\"");
        assertThat(put("/v1/catalog/register", "{\"Node\":\"meshfed-gateway-west\",\"Address\":\"10.9.0.1\"}",
                writer).status).isEqualTo(200);
        assertThatThrownBy(() -> client.getCatalogServices(new QueryParams("dc1"), "not-a-token"))
                .isInstanceOfSatisfying(OperationException.class, e -> {
                    assertThat(e.getStatusCode()).isEqualTo(403);
                    assertThat(e.getStatusContent()).isEqualTo("ACL not found");
                });
    }

    @Test
    void errorStatusesCarryConsulsPlainTextBodies() throws Exception {
        assertThat(get("/v1/catalog/services?index=abc")).satisfies(r -> {
            assertThat(r.status).isEqualTo(400);
            assertThat(r.text).isEqualTo("Invalid index");
        });
        assertThat(get("/v1/catalog/services?index=1&wait=soon")).satisfies(r -> {
            assertThat(r.status).isEqualTo(400);
            assertThat(r.text).isEqualTo("Invalid wait time");
        });
        assertThat(get("/v1/catalog/services?dc=dc2")).satisfies(r -> {
            assertThat(r.status).isEqualTo(500);
            assertThat(r.text).isEqualTo("No path to datacenter");
        });
        assertThat(get("/v1/catalog/register")).satisfies(r -> {
            assertThat(r.status).isEqualTo(405);
            assertThat(r.text).isEqualTo("method GET not allowed");
        });
        assertThat(put("/v1/catalog/register", "{\"Address\":\"10.0.0.1\"}")).satisfies(r -> {
            assertThat(r.status).isEqualTo(400);
            assertThat(r.text).isEqualTo("Must provide node");
        });
        assertThat(put("/v1/catalog/register", "{\"Node\":")).satisfies(r -> {
            assertThat(r.status).isEqualTo(400);
            assertThat(r.text).startsWith("Request decode failed: ");
        });
        assertThat(get("/v1/nothing/here").status).isEqualTo(404);
        assertThat(get("/v1/agent/self").body.path("Config").path("Datacenter").asText()).isEqualTo("dc1");
    }

    @Test
    void aStoppedAgentRefusesConnectionsAndComesBackOnItsPort() throws Exception {
        int port = consul.port();
        consul.stop();
        assertThatThrownBy(() -> get("/v1/catalog/services")).isInstanceOf(ConnectException.class);
        consul.resume();
        assertThat(consul.port()).isEqualTo(port);
        assertThat(get("/v1/catalog/services").status).isEqualTo(200);
    }

    @Test
    void goDurationsAsConsulReadsThem() {
        assertThat(GoDuration.millis("10s")).isEqualTo(10_000);
        assertThat(GoDuration.millis("1m30s")).isEqualTo(90_000);
        assertThat(GoDuration.millis("250ms")).isEqualTo(250);
        assertThat(GoDuration.millis("1h")).isEqualTo(3_600_000);
        assertThat(GoDuration.millis("2000000000")).as("a bare number is nanoseconds").isEqualTo(2_000);
        assertThat(GoDuration.millis("10")).isZero();
        assertThat(GoDuration.millis("soon")).isEqualTo(-1);
        assertThat(GoDuration.millis("10s5")).isEqualTo(-1);
        assertThat(GoDuration.millis("")).isEqualTo(-1);
    }

    private static com.ecwid.consul.v1.catalog.model.CatalogDeregistration deregistration(String node, String id) {
        var d = new com.ecwid.consul.v1.catalog.model.CatalogDeregistration();
        d.setNode(node);
        d.setServiceId(id);
        return d;
    }

    private record Reply(int status, String text, JsonNode body, long index, java.net.http.HttpHeaders headers) { }

    private Reply get(String path) throws Exception {
        return get(path, null);
    }

    private Reply get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(consul.address() + path)).GET();
        if (token != null) {
            b.header("X-Consul-Token", token);
        }
        return reply(http.send(b.build(), HttpResponse.BodyHandlers.ofString()));
    }

    private Reply put(String path, String body) throws Exception {
        return put(path, body, null);
    }

    private Reply put(String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(consul.address() + path))
                .PUT(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("X-Consul-Token", token);
        }
        return reply(http.send(b.build(), HttpResponse.BodyHandlers.ofString()));
    }

    private static Reply reply(HttpResponse<String> r) throws Exception {
        JsonNode body = r.statusCode() == 200 && !r.body().isEmpty() ? JSON.readTree(r.body()) : null;
        long index = r.headers().firstValue("X-Consul-Index").map(Long::parseLong).orElse(-1L);
        return new Reply(r.statusCode(), r.body(), body, index, r.headers());
    }
}
