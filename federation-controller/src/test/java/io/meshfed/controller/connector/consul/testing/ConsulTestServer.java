package io.meshfed.controller.connector.consul.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process Consul agent for tests, written to Consul's documented HTTP API (v1), since no Consul server can be
 * installed here. What it reproduces, because a client depends on it:
 * <ul>
 *   <li>blocking queries: {@code ?index=&wait=} (Go durations, default 5m, at most 10m, plus up to wait/16 of
 *       jitter); a read blocks until the index of what it reads moves past {@code index}, and a timeout answers 200
 *       with the same index; {@code X-Consul-Index} is never below 1; {@link #restart()} sets the index back to 1, so
 *       a client holding a higher one sees it go backwards;</li>
 *   <li>{@code /v1/catalog/services}, {@code /v1/catalog/service/:name}, {@code /v1/health/service/:name} with
 *       {@code passing} and {@code tag}, {@code /v1/catalog/register|deregister}, {@code /v1/agent/self},
 *       {@code /v1/agent/service/register}, {@code /v1/agent/service/deregister/:id},
 *       {@code /v1/agent/check/pass|warn|fail/:id}, {@code /v1/catalog/datacenters}, {@code /v1/status/leader};</li>
 *   <li>ACLs: {@code X-Consul-Token}, {@code Authorization: Bearer} or {@code ?token=}; {@code /v1/acl/token/self};
 *       reads filter what the token may not read and say so in {@code X-Consul-Results-Filtered-By-ACLs}; writes
 *       without the right answer 403 {@code Permission denied: token with AccessorID '…' lacks permission
 *       'node:write' on "…"}; an unknown token 403 {@code ACL not found}; with ACLs off the token endpoint answers
 *       401 {@code ACL support disabled};</li>
 *   <li>error statuses with Consul's plain-text bodies: 400 for a bad index, wait or body, 404 for unknown IDs and
 *       paths, 405 for a wrong method, 500 {@code No path to datacenter} for another {@code ?dc=}.</li>
 * </ul>
 */
public final class ConsulTestServer implements AutoCloseable {
    static final long DEFAULT_WAIT_MILLIS = 5 * 60_000;
    static final long MAX_WAIT_MILLIS = 10 * 60_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String datacenter;
    private final String nodeName;
    private final String host;
    private final ConsulCatalog catalog = new ConsulCatalog();
    private final ConsulAcl acl = new ConsulAcl();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final AtomicInteger tokensInUrl = new AtomicInteger();
    private volatile HttpServer server;
    private volatile ExecutorService executor;
    private int port;

    private ConsulTestServer(String host, String datacenter) {
        this.host = host;
        this.datacenter = datacenter;
        this.nodeName = "consul-test-" + datacenter;
    }

    /** An agent of datacenter {@code datacenter} on 127.0.0.1, on a free port, ACLs off. */
    public static ConsulTestServer start(String datacenter) throws IOException {
        return start("127.0.0.1", datacenter);
    }

    public static ConsulTestServer start(String host, String datacenter) throws IOException {
        ConsulTestServer s = new ConsulTestServer(host, datacenter);
        s.listen(0);
        s.catalog.upsertNode(s.nodeName, host, Map.of());
        s.catalog.upsertCheck(s.nodeName, "serfHealth", "Serf Health Status", "passing", "", "Agent alive and reachable");
        return s;
    }

    public URI address() {
        return URI.create("http://" + host + ":" + port);
    }

    public int port() {
        return port;
    }

    public String datacenter() {
        return datacenter;
    }

    /** The Raft index now. */
    public long index() {
        return catalog.index();
    }

    /** How many requests reached {@code path} (without the query), e.g. {@code /v1/catalog/services}. */
    public int requests(String path) {
        AtomicInteger n = requests.get(path);
        return n == null ? 0 : n.get();
    }

    // ---- what the test does as Consul's operator or as the agents of other nodes ----

    /** Turns ACLs on with default deny; from now on a request needs a token that grants what it does. */
    public void enableAcls() {
        acl.enable();
    }

    /** A token whose one policy holds these rules; returns its SecretID. */
    public String createToken(String description, ConsulAcl.Rule... rules) {
        return acl.create(description, List.of(rules)).secretId();
    }

    public void deleteToken(String secretId) {
        acl.delete(secretId);
    }

    /** Registers (or updates) a node as its agent would, with a passing serfHealth check. */
    public void node(String name, String address, Map<String, String> meta) {
        catalog.upsertNode(name, address, meta);
        if (catalog.findCheck("serfHealth:" + name) == null) {
            catalog.upsertCheck(name, "serfHealth:" + name, "Serf Health Status", "passing", "",
                    "Agent alive and reachable");
        }
    }

    /**
     * Registers a service instance on a node (made with {@link #node} first) with one check of its own, ID
     * {@code service:<id>}, in {@code status}.
     */
    public void service(String node, String id, String name, List<String> tags, Map<String, String> meta,
            String address, int port, String status) {
        if (!catalog.hasNode(node)) {
            throw new IllegalStateException("no node " + node + ": call node() first");
        }
        catalog.upsertService(node, id, name, tags, address, port, meta);
        catalog.upsertCheck(node, "service:" + id, "Service '" + name + "' check", status, id, "");
    }

    /** Sets a check's status: passing, warning, critical or maintenance. */
    public void check(String checkId, String status) {
        ConsulCatalog.Check c = catalog.findCheck(checkId);
        if (c == null) {
            throw new IllegalArgumentException("no check " + checkId);
        }
        catalog.upsertCheck(c.node(), c.checkId(), c.name(), status, c.serviceId(), c.output());
    }

    public void deregister(String node, String serviceId) {
        catalog.removeService(node, serviceId);
    }

    /** The service instance registered under this ID on that node, as the catalog holds it, if any. */
    public Optional<Registered> registered(String node, String serviceId) {
        ConsulCatalog.Service s = catalog.findService(node, serviceId);
        return Optional.ofNullable(s).map(x -> new Registered(x.name(), x.tags(), x.address(), x.port(), x.meta()));
    }

    /** What a catalog entry holds, for the test to check. */
    public record Registered(String name, List<String> tags, String address, int port, Map<String, String> meta) { }

    /** The services of one node, by ID. */
    public Map<String, Registered> servicesOn(String node) {
        Map<String, Registered> out = new LinkedHashMap<>();
        for (String name : catalog.serviceNames().keySet()) {
            for (ConsulCatalog.Entry e : catalog.instances(name)) {
                if (e.node().name().equals(node)) {
                    ConsulCatalog.Service x = e.service();
                    out.put(x.id(), new Registered(x.name(), x.tags(), x.address(), x.port(), x.meta()));
                }
            }
        }
        return out;
    }

    /** The agent restarts having lost its Raft data: the catalog stays (agents register again) but the index is 1. */
    public void restart() throws IOException {
        stop();
        catalog.resetIndex(1);
        resume();
    }

    /** The agent goes away: the port refuses connections and blocked reads are cut, until {@link #resume()}. */
    public void stop() {
        HttpServer s = server;
        if (s != null) {
            s.stop(0);
            executor.shutdownNow();
            server = null;
            catalog.wakeAll();
        }
    }

    /** The agent comes back on the same port. */
    public void resume() throws IOException {
        listen(port);
    }

    @Override
    public void close() {
        stop();
    }

    // ---- the HTTP API ----

    private void listen(int onPort) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(host, onPort), 64);
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "consul-test-http");
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(executor);
        s.createContext("/", this::handle);
        s.start();
        port = s.getAddress().getPort();
        server = s;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            Map<String, String> query = query(ex.getRequestURI().getRawQuery());
            try {
                route(ex, path, query);
            } catch (HttpError e) {
                send(ex, e.status, e.getMessage(), null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void route(HttpExchange ex, String path, Map<String, String> query) throws IOException,
            InterruptedException {
        String method = ex.getRequestMethod();
        if (query.containsKey("dc") && !query.get("dc").equals(datacenter)) {
            throw new HttpError(500, "No path to datacenter");
        }
        String secret = secret(ex, query);
        ConsulAcl.Token token = token(secret, path);
        if (path.equals("/v1/acl/token/self")) {
            allow(method, "GET");
            tokenSelf(ex, secret);
        } else if (path.equals("/v1/agent/self")) {
            allow(method, "GET");
            need(token, "agent", nodeName, ConsulAcl.Access.READ);
            ObjectNode self = JSON.createObjectNode();
            self.putObject("Config").put("Datacenter", datacenter).put("NodeName", nodeName)
                    .put("NodeID", java.util.UUID.nameUUIDFromBytes(nodeName.getBytes()).toString())
                    .put("Server", true).put("Version", "1.17.3");
            self.putObject("Member").put("Name", nodeName).put("Addr", host).put("Port", 8301).put("Status", 1);
            send(ex, 200, JSON.writeValueAsString(self), null);
        } else if (path.equals("/v1/status/leader")) {
            allow(method, "GET");
            send(ex, 200, "\"" + host + ":8300\"", null);
        } else if (path.equals("/v1/catalog/datacenters")) {
            allow(method, "GET");
            send(ex, 200, JSON.writeValueAsString(List.of(datacenter)), null);
        } else if (path.equals("/v1/catalog/services")) {
            allow(method, "GET");
            long idx = block(query, catalog::servicesTableIndex);
            ObjectNode out = JSON.createObjectNode();
            boolean filtered = false;
            for (Map.Entry<String, List<String>> e : catalog.serviceNames().entrySet()) {
                if (!acl.allows(token, "service", e.getKey(), ConsulAcl.Access.READ)) {
                    filtered = true;
                    continue;
                }
                ArrayNode tags = out.putArray(e.getKey());
                e.getValue().forEach(tags::add);
            }
            sendRead(ex, out, idx, filtered);
        } else if (path.startsWith("/v1/catalog/service/")) {
            allow(method, "GET");
            String name = decode(path.substring("/v1/catalog/service/".length()));
            long idx = block(query, () -> catalog.serviceIndex(name));
            ArrayNode out = JSON.createArrayNode();
            boolean filtered = false;
            for (ConsulCatalog.Entry e : selected(name, query)) {
                if (!readable(token, name, e)) {
                    filtered = true;
                    continue;
                }
                out.add(catalogEntry(e));
            }
            sendRead(ex, out, idx, filtered);
        } else if (path.startsWith("/v1/health/service/")) {
            allow(method, "GET");
            String name = decode(path.substring("/v1/health/service/".length()));
            long idx = block(query, () -> catalog.serviceIndex(name));
            boolean passingOnly = query.containsKey("passing") && !"false".equals(query.get("passing"));
            ArrayNode out = JSON.createArrayNode();
            boolean filtered = false;
            for (ConsulCatalog.Entry e : selected(name, query)) {
                if (passingOnly && !e.checks().stream().allMatch(c -> c.status().equals("passing"))) {
                    continue;
                }
                if (!readable(token, name, e)) {
                    filtered = true;
                    continue;
                }
                out.add(healthEntry(e));
            }
            sendRead(ex, out, idx, filtered);
        } else if (path.equals("/v1/catalog/register")) {
            allow(method, "PUT");
            catalogRegister(body(ex), token);
            send(ex, 200, "true", null);
        } else if (path.equals("/v1/catalog/deregister")) {
            allow(method, "PUT");
            catalogDeregister(body(ex), token);
            send(ex, 200, "true", null);
        } else if (path.equals("/v1/agent/service/register")) {
            allow(method, "PUT");
            agentRegister(body(ex), token);
            send(ex, 200, "", null);
        } else if (path.startsWith("/v1/agent/service/deregister/")) {
            allow(method, "PUT");
            String id = decode(path.substring("/v1/agent/service/deregister/".length()));
            ConsulCatalog.Service s = catalog.findService(nodeName, id);
            if (s == null) {
                throw new HttpError(404, "Unknown service ID \"" + id
                        + "\". Ensure that the service ID is passed, not the service name.");
            }
            need(token, "service", s.name(), ConsulAcl.Access.WRITE);
            catalog.removeService(nodeName, id);
            send(ex, 200, "", null);
        } else if (path.matches("/v1/agent/check/(pass|warn|fail)/.+")) {
            allow(method, "PUT");
            String[] parts = path.split("/", 6);
            String status = switch (parts[4]) {
                case "pass" -> "passing";
                case "warn" -> "warning";
                default -> "critical";
            };
            String id = decode(parts[5]);
            ConsulCatalog.Check c = catalog.findCheck(id);
            if (c == null) {
                throw new HttpError(404, "Unknown check ID \"" + id
                        + "\". Ensure that the check ID is passed, not the check name.");
            }
            if (!c.serviceName().isEmpty()) {
                need(token, "service", c.serviceName(), ConsulAcl.Access.WRITE);
            } else {
                need(token, "node", c.node(), ConsulAcl.Access.WRITE);
            }
            catalog.upsertCheck(c.node(), id, c.name(), status, c.serviceId(), query.getOrDefault("note", ""));
            send(ex, 200, "", null);
        } else {
            throw new HttpError(404, "404 page not found");
        }
    }

    private void tokenSelf(HttpExchange ex, String secret) throws IOException {
        if (!acl.enabled()) {
            throw new HttpError(401, "ACL support disabled");
        }
        if (secret == null || secret.isEmpty()) {
            // The anonymous token may not read itself without acl:read.
            throw new HttpError(403, "Permission denied: anonymous token lacks permission 'acl:read'."
                    + " The anonymous token is used implicitly when a request does not specify a token.");
        }
        ConsulAcl.Token t = acl.resolve(secret).orElseThrow(() -> new HttpError(403, "ACL not found"));
        ObjectNode out = JSON.createObjectNode().put("AccessorID", t.accessorId()).put("SecretID", t.secretId())
                .put("Description", t.description()).put("Local", false).put("CreateIndex", 1).put("ModifyIndex", 1);
        out.putArray("Policies").addObject().put("ID", t.policyId()).put("Name", t.policyName());
        send(ex, 200, JSON.writeValueAsString(out), null);
    }

    private void catalogRegister(JsonNode body, ConsulAcl.Token token) {
        String node = text(body, "Node");
        String address = text(body, "Address");
        if (node.isEmpty()) {
            throw new HttpError(400, "Must provide node");
        }
        if (address.isEmpty()) {
            throw new HttpError(400, "Must provide address");
        }
        datacenterOf(body);
        JsonNode svc = body.path("Service");
        if (!svc.isMissingNode() && !svc.isNull() && text(svc, "Service").isEmpty()) {
            throw new HttpError(400, "Must provide service name (Service.Service) with ID");
        }
        boolean skipNode = body.path("SkipNodeUpdate").asBoolean(false) && catalog.hasNode(node);
        if (!skipNode) {
            need(token, "node", node, ConsulAcl.Access.WRITE);
        }
        if (!svc.isMissingNode() && !svc.isNull()) {
            need(token, "service", text(svc, "Service"), ConsulAcl.Access.WRITE);
        }
        if (!skipNode) {
            catalog.upsertNode(node, address, strings(body.path("NodeMeta")));
        }
        if (!svc.isMissingNode() && !svc.isNull()) {
            String name = text(svc, "Service");
            String id = text(svc, "ID").isEmpty() ? name : text(svc, "ID");
            int port = svc.path("Port").asInt(0);
            if (port < 0 || port > 65535) {
                throw new HttpError(400, "Invalid service port " + port);
            }
            List<String> tags = new ArrayList<>();
            svc.path("Tags").forEach(t -> tags.add(t.asText()));
            catalog.upsertService(node, id, name, tags, text(svc, "Address"), port, strings(svc.path("Meta")));
        }
        JsonNode check = body.path("Check");
        if (!check.isMissingNode() && !check.isNull()) {
            String status = text(check, "Status").isEmpty() ? "critical" : text(check, "Status");
            if (!ConsulCatalog.STATES.contains(status)) {
                throw new HttpError(400, "Invalid check status \"" + status + "\"");
            }
            catalog.upsertCheck(node, text(check, "CheckID"), text(check, "Name"), status, text(check, "ServiceID"),
                    text(check, "Output"));
        }
    }

    private void catalogDeregister(JsonNode body, ConsulAcl.Token token) {
        String node = text(body, "Node");
        if (node.isEmpty()) {
            throw new HttpError(400, "Must provide node");
        }
        datacenterOf(body);
        need(token, "node", node, ConsulAcl.Access.WRITE);
        String serviceId = text(body, "ServiceID");
        if (serviceId.isEmpty()) {
            catalog.removeNode(node);
        } else {
            ConsulCatalog.Service s = catalog.findService(node, serviceId);
            if (s != null) {
                need(token, "service", s.name(), ConsulAcl.Access.WRITE);
                catalog.removeService(node, serviceId);
            }
        }
    }

    private void agentRegister(JsonNode body, ConsulAcl.Token token) {
        String name = text(body, "Name");
        if (name.isEmpty()) {
            throw new HttpError(400, "Missing service name");
        }
        need(token, "service", name, ConsulAcl.Access.WRITE);
        String id = text(body, "ID").isEmpty() ? name : text(body, "ID");
        List<String> tags = new ArrayList<>();
        body.path("Tags").forEach(t -> tags.add(t.asText()));
        catalog.upsertService(nodeName, id, name, tags, text(body, "Address"), body.path("Port").asInt(0),
                strings(body.path("Meta")));
        List<JsonNode> checks = new ArrayList<>();
        if (body.path("Check").isObject()) {
            checks.add(body.path("Check"));
        }
        body.path("Checks").forEach(checks::add);
        for (int i = 0; i < checks.size(); i++) {
            JsonNode c = checks.get(i);
            String checkId = text(c, "CheckID").isEmpty()
                    ? "service:" + id + (checks.size() > 1 ? ":" + (i + 1) : "") : text(c, "CheckID");
            String status = text(c, "Status").isEmpty() ? "critical" : text(c, "Status");
            catalog.upsertCheck(nodeName, checkId, text(c, "Name").isEmpty() ? "Service '" + name + "' check"
                    : text(c, "Name"), status, id, "");
        }
    }

    private List<ConsulCatalog.Entry> selected(String name, Map<String, String> query) {
        String tag = query.get("tag");
        return catalog.instances(name).stream().filter(e -> tag == null || e.service().tags().contains(tag)).toList();
    }

    /** A read of a service's instances needs service:read on it and node:read on each instance's node. */
    private boolean readable(ConsulAcl.Token token, String service, ConsulCatalog.Entry e) {
        return acl.allows(token, "service", service, ConsulAcl.Access.READ)
                && acl.allows(token, "node", e.node().name(), ConsulAcl.Access.READ);
    }

    private ObjectNode nodeJson(ConsulCatalog.Node n) {
        ObjectNode o = JSON.createObjectNode().put("ID", n.id()).put("Node", n.name()).put("Address", n.address())
                .put("Datacenter", datacenter);
        o.putObject("TaggedAddresses").put("lan", n.address()).put("wan", n.address());
        ObjectNode meta = o.putObject("Meta");
        n.meta().forEach(meta::put);
        o.put("CreateIndex", n.createIndex()).put("ModifyIndex", n.modifyIndex());
        return o;
    }

    private ObjectNode serviceJson(ConsulCatalog.Service s) {
        ObjectNode o = JSON.createObjectNode().put("ID", s.id()).put("Service", s.name());
        ArrayNode tags = o.putArray("Tags");
        s.tags().forEach(tags::add);
        o.put("Address", s.address());
        ObjectNode meta = o.putObject("Meta");
        s.meta().forEach(meta::put);
        o.put("Port", s.port());
        o.putObject("Weights").put("Passing", 1).put("Warning", 1);
        o.put("EnableTagOverride", false).put("CreateIndex", s.createIndex()).put("ModifyIndex", s.modifyIndex());
        return o;
    }

    private ObjectNode healthEntry(ConsulCatalog.Entry e) {
        ObjectNode o = JSON.createObjectNode();
        o.set("Node", nodeJson(e.node()));
        o.set("Service", serviceJson(e.service()));
        ArrayNode checks = o.putArray("Checks");
        for (ConsulCatalog.Check c : e.checks()) {
            ObjectNode co = checks.addObject().put("Node", c.node()).put("CheckID", c.checkId()).put("Name", c.name())
                    .put("Status", c.status()).put("Notes", "").put("Output", c.output())
                    .put("ServiceID", c.serviceId()).put("ServiceName", c.serviceName());
            ArrayNode st = co.putArray("ServiceTags");
            if (!c.serviceId().isEmpty()) {
                e.service().tags().forEach(st::add);
            }
            co.put("CreateIndex", c.createIndex()).put("ModifyIndex", c.modifyIndex());
        }
        return o;
    }

    private ObjectNode catalogEntry(ConsulCatalog.Entry e) {
        ConsulCatalog.Node n = e.node();
        ConsulCatalog.Service s = e.service();
        ObjectNode o = JSON.createObjectNode().put("ID", n.id()).put("Node", n.name()).put("Address", n.address())
                .put("Datacenter", datacenter);
        o.putObject("TaggedAddresses").put("lan", n.address()).put("wan", n.address());
        ObjectNode nm = o.putObject("NodeMeta");
        n.meta().forEach(nm::put);
        o.put("ServiceID", s.id()).put("ServiceName", s.name()).put("ServiceAddress", s.address());
        ArrayNode tags = o.putArray("ServiceTags");
        s.tags().forEach(tags::add);
        ObjectNode sm = o.putObject("ServiceMeta");
        s.meta().forEach(sm::put);
        o.put("ServicePort", s.port()).put("ServiceEnableTagOverride", false);
        o.putObject("ServiceWeights").put("Passing", 1).put("Warning", 1);
        o.put("CreateIndex", s.createIndex()).put("ModifyIndex", s.modifyIndex());
        return o;
    }

    /** Runs the blocking part of a read: parses index and wait, and waits on what the read reports. */
    private long block(Map<String, String> query, java.util.function.Supplier<Long> current)
            throws InterruptedException {
        long seen = 0;
        if (query.containsKey("index")) {
            try {
                seen = Long.parseUnsignedLong(query.get("index"));
            } catch (NumberFormatException e) {
                throw new HttpError(400, "Invalid index");
            }
        }
        long wait = DEFAULT_WAIT_MILLIS;
        if (query.containsKey("wait")) {
            wait = GoDuration.millis(query.get("wait"));
            if (wait < 0) {
                throw new HttpError(400, "Invalid wait time");
            }
            wait = Math.min(wait, MAX_WAIT_MILLIS);
        }
        long jitter = wait / 16 == 0 ? 0 : ThreadLocalRandom.current().nextLong(wait / 16);
        return catalog.await(seen, wait + jitter, current);
    }

    private ConsulAcl.Token token(String secret, String path) {
        if (path.equals("/v1/acl/token/self") || !acl.enabled()) {
            return acl.resolve(null).orElseThrow();
        }
        return acl.resolve(secret).orElseThrow(() -> new HttpError(403, "ACL not found"));
    }

    /** How many requests carried their ACL token in the URL ({@code ?token=}) rather than in a header. */
    public int tokensInUrl() {
        return tokensInUrl.get();
    }

    private String secret(HttpExchange ex, Map<String, String> query) {
        if (query.containsKey("token")) {
            tokensInUrl.incrementAndGet();
        }
        String header = ex.getRequestHeaders().getFirst("X-Consul-Token");
        if (header != null && !header.isEmpty()) {
            return header;
        }
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null && auth.startsWith("Bearer ")) {
            return auth.substring("Bearer ".length());
        }
        return query.get("token");
    }

    private void need(ConsulAcl.Token token, String resource, String name, ConsulAcl.Access access) {
        if (!acl.allows(token, resource, name, access)) {
            String who = token.accessorId().equals(ConsulAcl.ANONYMOUS_ACCESSOR) ? "anonymous token"
                    : "token with AccessorID '" + token.accessorId() + "'";
            throw new HttpError(403, "Permission denied: " + who + " lacks permission '" + resource + ":"
                    + access.name().toLowerCase(java.util.Locale.ROOT) + "' on \"" + name + "\"");
        }
    }

    private void datacenterOf(JsonNode body) {
        String dc = text(body, "Datacenter");
        if (!dc.isEmpty() && !dc.equals(datacenter)) {
            throw new HttpError(500, "No path to datacenter");
        }
    }

    private static void allow(String method, String expected) {
        if (!method.equals(expected)) {
            throw new HttpError(405, "method " + method + " not allowed");
        }
    }

    private static JsonNode body(HttpExchange ex) throws IOException {
        byte[] raw = ex.getRequestBody().readAllBytes();
        if (raw.length == 0) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode n = JSON.readTree(raw);
            if (!n.isObject()) {
                throw new HttpError(400, "Request decode failed: json: cannot unmarshal " + n.getNodeType()
                        .name().toLowerCase(java.util.Locale.ROOT) + " into Go value of type structs.RegisterRequest");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new HttpError(400, "Request decode failed: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isTextual() ? v.asText() : "";
    }

    private static Map<String, String> strings(JsonNode n) {
        Map<String, String> out = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private void sendRead(HttpExchange ex, JsonNode body, long index, boolean filtered) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-Consul-Index", Long.toString(Math.max(1, index)));
        headers.put("X-Consul-KnownLeader", "true");
        headers.put("X-Consul-LastContact", "0");
        headers.put("X-Consul-Effective-Consistency", "leader");
        if (filtered) {
            headers.put("X-Consul-Results-Filtered-By-ACLs", "true");
        }
        send(ex, 200, JSON.writeValueAsString(body), headers);
    }

    private static void send(HttpExchange ex, int status, String body, Map<String, String> headers)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        boolean json = status == 200 && !body.isEmpty();
        ex.getResponseHeaders().set("Content-Type", json ? "application/json" : "text/plain; charset=utf-8");
        if (headers != null) {
            headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        }
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            out.put(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
        }
        return out;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** An answer other than 200, with Consul's plain-text body. */
    private static final class HttpError extends RuntimeException {
        private final int status;

        HttpError(int status, String message) {
            super(message);
            this.status = status;
        }
    }
}
