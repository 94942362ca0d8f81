package io.meshfed.trust.ca.vault.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.meshfed.trust.Pem;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process Vault server for tests, written to Vault's documented HTTP API (developer.hashicorp.com/vault/api-docs:
 * secret/pki, auth/approle, auth/token, system/mounts), since no Vault can be installed here. Certificates are real:
 * real keys, real signatures; a mount's CA key never leaves the server. What it reproduces:
 * <ul>
 *   <li>every request under {@code /v1/}; the token in {@code X-Vault-Token} (or {@code Authorization: Bearer});
 *       errors as {@code {"errors":[...]}};</li>
 *   <li>tokens with a TTL, renewable or not, and ACL policies (path globs with a trailing {@code *} and {@code +}
 *       segments; capabilities read, create, update, list, delete, deny); every token but a root token carries the
 *       {@code default} policy (lookup-self, renew-self, revoke-self). A missing token answers 400
 *       {@code missing client token}, an unknown, expired or revoked one 403 {@code permission denied}, a path the
 *       policies do not grant 403 {@code 1 error occurred:\n\t* permission denied\n\n};</li>
 *   <li>{@code auth/token/lookup-self}, {@code renew-self} (optional {@code increment}), {@code revoke-self},
 *       {@code create}; AppRole {@code auth/approle/login}, {@code role/:name}, {@code role/:name/role-id},
 *       {@code role/:name/secret-id}; a wrong role_id or secret_id 400 {@code invalid role or secret ID};</li>
 *   <li>{@code sys/policies/acl/:name} (write, read, delete; the HCL subset
 *       {@code path "p" { capabilities = [...] }}), or {@link #policy} from the test;</li>
 *   <li>{@code sys/mounts} (list, enable {@code type=pki}, disable, {@code tune} of the lease TTLs), {@code sys/health},
 *       {@code sys/seal-status};</li>
 *   <li>PKI: {@code root/generate/internal}, {@code intermediate/generate/internal}, {@code root/sign-intermediate},
 *       {@code intermediate/set-signed}, {@code roles/:name} (write, read, delete, list), {@code sign/:role},
 *       {@code issue/:role}, {@code cert/:serial}, {@code cert/ca_chain}, {@code cert/ca}, {@code ca/pem},
 *       {@code ca}, {@code ca_chain}; unauthenticated where Vault's PKI engine makes them so ({@code cert/*},
 *       {@code ca}, {@code ca/pem}, {@code ca_chain});</li>
 *   <li>failure injection: {@link #stop()}/{@link #resume()} on the same port, {@link #sealed(boolean)} (503
 *       {@code Vault is sealed}), {@link #delay(Duration)}; request counts per path ({@link #requests(String)}).</li>
 * </ul>
 */
public final class VaultTestServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String host;
    private final Clock clock;
    private final VaultAuth auth = new VaultAuth();
    private final Map<String, VaultPkiMount> mounts = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final String rootToken;
    private volatile Duration skew = Duration.ZERO;
    private volatile Duration delay = Duration.ZERO;
    private volatile boolean sealed;
    private volatile int missingTokenStatus = 400;
    private volatile HttpServer server;
    private volatile ExecutorService executor;
    private int port;

    private VaultTestServer(String host, Clock clock) {
        this.host = host;
        this.clock = clock;
        this.rootToken = auth.create(List.of("root"), Duration.ZERO, Duration.ZERO, false, clock.instant(), Map.of(),
                "auth/token/root").id;
    }

    /** A Vault on 127.0.0.1, on a free port, unsealed, with a root token ({@link #rootToken()}) and no mounts. */
    public static VaultTestServer start() throws IOException {
        return start("127.0.0.1", Clock.systemUTC());
    }

    /** With the server's clock (token expiry, certificate validity) taken from {@code clock}. */
    public static VaultTestServer start(Clock clock) throws IOException {
        return start("127.0.0.1", clock);
    }

    public static VaultTestServer start(String host, Clock clock) throws IOException {
        VaultTestServer s = new VaultTestServer(host, clock);
        s.listen(0);
        return s;
    }

    /** E.g. {@code http://127.0.0.1:41234}, what {@code VaultConfig.address} takes. */
    public String address() {
        return "http://" + host + ":" + port;
    }

    public URI uri() {
        return URI.create(address());
    }

    public int port() {
        return port;
    }

    /** A token with the root policy: no TTL, not renewable. */
    public String rootToken() {
        return rootToken;
    }

    /** How many requests reached {@code path} (without the query), e.g. {@code /v1/pki/sign/spiffe}. */
    public int requests(String path) {
        AtomicInteger n = requests.get(path);
        return n == null ? 0 : n.get();
    }

    /** Every path requested so far with its count. */
    public Map<String, Integer> requests() {
        Map<String, Integer> out = new TreeMap<>();
        requests.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    public void resetRequests() {
        requests.clear();
    }

    /** The server's now: its clock plus whatever {@link #advance} added. */
    public Instant now() {
        return clock.instant().plus(skew);
    }

    // ---- what the test does as Vault's operator ----

    /** An ACL policy: path (or glob) to capabilities, e.g. {@code Map.of("pki/sign/spiffe", Set.of("update"))}. */
    public void policy(String name, Map<String, Set<String>> pathCapabilities) {
        auth.policies.put(name, Map.copyOf(pathCapabilities));
    }

    /** A renewable service token with these policies (plus {@code default}); returns its ID. */
    public String createToken(Duration ttl, String... policies) {
        return createToken(ttl, true, policies);
    }

    public String createToken(Duration ttl, boolean renewable, String... policies) {
        return auth.create(List.of(policies), ttl, Duration.ZERO, renewable, now(), Map.of(), "auth/token/create").id;
    }

    /** The token expires now: from now on it answers 403 {@code permission denied}. */
    public void expire(String token) {
        VaultAuth.Token t = auth.tokens.get(token);
        if (t != null) {
            t.expireTime = now().minusMillis(1);
        }
    }

    public void revoke(String token) {
        VaultAuth.Token t = auth.tokens.remove(token);
        if (t != null) {
            t.revoked = true;
        }
    }

    /** Moves the server's clock forward (tokens expire by it; certificates are dated by it). */
    public void advance(Duration d) {
        skew = skew.plus(d);
    }

    /** The token's expiry, or null when it has no TTL or no longer exists. */
    public Instant tokenExpiry(String token) {
        VaultAuth.Token t = auth.tokens.get(token);
        return t == null ? null : t.expireTime;
    }

    /** An AppRole with a role_id and one secret_id; its tokens get {@code tokenTtl} and these policies. */
    public AppRoleCredentials createAppRole(String name, Duration tokenTtl, Duration tokenMaxTtl,
            String... policies) {
        VaultAuth.AppRole r = new VaultAuth.AppRole(name);
        r.tokenTtl = tokenTtl;
        r.tokenMaxTtl = tokenMaxTtl;
        r.policies = List.of(policies);
        String secretId = UUID.randomUUID().toString();
        r.secretIds.add(secretId);
        auth.appRoles.put(name, r);
        return new AppRoleCredentials(r.roleId, secretId);
    }

    /** What a test hands to {@code loginByAppRole}. */
    public record AppRoleCredentials(String roleId, String secretId) {}

    /** Enables a PKI secrets engine at {@code path} (no CA yet), as {@code POST sys/mounts/:path type=pki}. */
    public void mountPki(String path) {
        mounts.putIfAbsent(strip(path), new VaultPkiMount(strip(path)));
    }

    /** Tunes a mount's max_lease_ttl (which caps the CA and leaf TTLs, 768h by default, as in Vault). */
    public void tuneMaxLeaseTtl(String mount, Duration maxLeaseTtl) {
        pki(mount).maxLeaseTtl = maxLeaseTtl;
    }

    /** The issuer's {@code leaf_not_after_behavior}: {@code err} (Vault's default), {@code truncate} or {@code permit}. */
    public void leafNotAfterBehavior(String mount, String behavior) {
        pki(mount).leafNotAfterBehavior = behavior;
    }

    /** Mounts {@code mount} if needed and generates an ECDSA P-256 root CA there; returns its certificate. */
    public X509Certificate generateRoot(String mount, String commonName, Duration ttl) {
        mountPki(mount);
        VaultPkiMount m = pki(mount);
        Duration capped = ttl.compareTo(m.maxLeaseTtl) > 0 ? m.maxLeaseTtl : ttl;
        return m.generateRoot(commonName, capped, "ec", 256, null, now());
    }

    /**
     * Builds root → intermediate the way the API does (intermediate/generate/internal, root/sign-intermediate,
     * intermediate/set-signed with the chain): mounts {@code intermediateMount} with an ECDSA P-256 CA signed by
     * {@code rootMount}'s CA. Returns the intermediate's certificate.
     */
    public X509Certificate intermediateOf(String rootMount, String intermediateMount, String commonName,
            Duration ttl) {
        mountPki(intermediateMount);
        VaultPkiMount root = pki(rootMount);
        VaultPkiMount in = pki(intermediateMount);
        var csr = in.generateIntermediateCsr(commonName, "ec", 256);
        X509Certificate cert = root.signIntermediate(csr, commonName, ttl.compareTo(root.maxLeaseTtl) > 0
                ? root.maxLeaseTtl : ttl, null, now());
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(cert);
        chain.addAll(root.caChain());
        in.setSigned(chain);
        return cert;
    }

    /** The mount's CA chain, issuing CA first. */
    public List<X509Certificate> caChain(String mount) {
        return pki(mount).caChain();
    }

    /** Certificates the mount issued and stored (roles without no_store), by Vault's serial text. */
    public Map<String, X509Certificate> issuedCertificates(String mount) {
        return Map.copyOf(pki(mount).issued);
    }

    /** While sealed every request but sys/health and sys/seal-status answers 503 {@code Vault is sealed}. */
    public void sealed(boolean sealed) {
        this.sealed = sealed;
    }

    /**
     * The status for a request without a token: 400 {@code missing client token} by default (what Vault answered
     * in the reports we could find); 403 makes it answer {@code permission denied} instead.
     */
    public void missingTokenStatus(int status) {
        this.missingTokenStatus = status;
    }

    /** Every request waits this long before it is handled. */
    public void delay(Duration delay) {
        this.delay = delay;
    }

    /** Vault goes away: the port refuses connections until {@link #resume()}. State is kept. */
    public void stop() {
        HttpServer s = server;
        if (s != null) {
            s.stop(0);
            executor.shutdownNow();
            server = null;
        }
    }

    /** Vault comes back on the same port. */
    public void resume() throws IOException {
        if (server == null) {
            listen(port);
        }
    }

    @Override
    public void close() {
        stop();
    }

    private VaultPkiMount pki(String mount) {
        VaultPkiMount m = mounts.get(strip(mount));
        if (m == null) {
            throw new IllegalArgumentException("no PKI mount " + mount + ": call mountPki() first");
        }
        return m;
    }

    private static String strip(String path) {
        String p = path;
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    // ---- the HTTP API ----

    private void listen(int onPort) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(host, onPort), 64);
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "vault-test-http");
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(executor);
        s.createContext("/", this::handle);
        s.start();
        port = s.getAddress().getPort();
        server = s;
    }

    /** A reply: JSON, or a raw body with its content type. */
    private record Reply(int status, String body, String contentType) {
        static Reply json(int status, JsonNode body) {
            return new Reply(status, body.toString(), "application/json");
        }

        static Reply raw(String body, String contentType) {
            return new Reply(200, body, contentType);
        }

        static Reply noContent() {
            return new Reply(204, "", "application/json");
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String rawPath = ex.getRequestURI().getPath();
            requests.computeIfAbsent(rawPath, p -> new AtomicInteger()).incrementAndGet();
            Duration d = delay;
            if (!d.isZero()) {
                try {
                    Thread.sleep(d.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            Reply reply;
            try {
                reply = route(ex, rawPath);
            } catch (VaultError e) {
                ObjectNode body = JSON.createObjectNode();
                ArrayNode errors = body.putArray("errors");
                e.errors.forEach(errors::add);
                reply = Reply.json(e.status, body);
            } catch (RuntimeException e) {
                ObjectNode body = JSON.createObjectNode();
                body.putArray("errors").add("1 error occurred:\n\t* " + e + "\n\n");
                reply = Reply.json(500, body);
            }
            send(ex, reply);
        }
    }

    private Reply route(HttpExchange ex, String rawPath) throws IOException {
        if (!rawPath.startsWith("/v1/")) {
            throw new VaultError(404, List.of());
        }
        String path = strip(rawPath.substring(4));
        String method = ex.getRequestMethod().toUpperCase();
        String query = ex.getRequestURI().getQuery();
        boolean list = method.equals("LIST") || method.equals("GET") && query != null && query.contains("list=true");
        if (path.equals("sys/health")) {
            return health();
        }
        if (path.equals("sys/seal-status")) {
            return Reply.json(200, sealStatus());
        }
        if (sealed) {
            throw VaultError.of(503, "Vault is sealed");
        }
        VaultParams params = new VaultParams(body(ex));
        String capability = switch (method) {
            case "GET", "HEAD" -> list ? "list" : "read";
            case "LIST" -> "list";
            case "POST", "PUT" -> "update";
            case "DELETE" -> "delete";
            case "PATCH" -> "patch";
            default -> throw VaultError.multi(405, "unsupported operation");
        };
        VaultAuth.Token token = null;
        if (!unauthenticated(path)) {
            String id = ex.getRequestHeaders().getFirst("X-Vault-Token");
            if (id == null) {
                String bearer = ex.getRequestHeaders().getFirst("Authorization");
                if (bearer != null && bearer.startsWith("Bearer ")) {
                    id = bearer.substring(7).trim();
                }
            }
            if (id == null || id.isEmpty()) {
                throw missingTokenStatus == 403 ? VaultError.of(403, "permission denied")
                        : VaultError.of(missingTokenStatus, "missing client token");
            }
            token = auth.lookup(id, now());
            if (token == null) {
                throw VaultError.of(403, "permission denied");
            }
            if (!auth.allowed(token, path, capability)) {
                throw VaultError.multi(403, "permission denied");
            }
        }
        if (path.startsWith("auth/token/")) {
            return tokenApi(path.substring("auth/token/".length()), method, params, token);
        }
        if (path.startsWith("auth/approle/")) {
            return appRoleApi(path.substring("auth/approle/".length()), method, params);
        }
        if (path.equals("sys/mounts") && method.equals("GET")) {
            return sysMounts();
        }
        if (path.startsWith("sys/policies/acl/") || path.startsWith("sys/policy/")) {
            return sysPolicy(path.substring(path.lastIndexOf('/') + 1), method, params);
        }
        if (path.startsWith("sys/mounts/")) {
            return sysMount(path.substring("sys/mounts/".length()), method, params);
        }
        for (VaultPkiMount m : mounts.values()) {
            if (path.equals(m.path) || path.startsWith(m.path + "/")) {
                String rest = path.equals(m.path) ? "" : path.substring(m.path.length() + 1);
                return pkiApi(m, rest, method, list, params);
            }
        }
        throw VaultError.multi(404, "no handler for route \"" + path + "\". route entry not found.");
    }

    private boolean unauthenticated(String path) {
        if (path.equals("auth/approle/login")) {
            return true;
        }
        for (VaultPkiMount m : mounts.values()) {
            if (path.startsWith(m.path + "/")) {
                String rest = path.substring(m.path.length() + 1);
                return rest.startsWith("cert/") || rest.equals("ca") || rest.equals("ca/pem")
                        || rest.equals("ca_chain") || rest.equals("crl") || rest.equals("crl/pem");
            }
        }
        return false;
    }

    private static JsonNode body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readAllBytes();
            if (b.length == 0) {
                return JSON.createObjectNode();
            }
            try {
                return JSON.readTree(b);
            } catch (IOException e) {
                throw VaultError.badRequest("failed to parse JSON input: " + e.getMessage());
            }
        }
    }

    private ObjectNode envelope(JsonNode data) {
        ObjectNode o = JSON.createObjectNode();
        o.put("request_id", UUID.randomUUID().toString());
        o.put("lease_id", "");
        o.put("renewable", false);
        o.put("lease_duration", 0);
        o.set("data", data);
        o.putNull("wrap_info");
        o.putNull("warnings");
        o.putNull("auth");
        return o;
    }

    // ---- sys ----

    private Reply health() {
        ObjectNode o = JSON.createObjectNode();
        o.put("initialized", true);
        o.put("sealed", sealed);
        o.put("standby", false);
        o.put("performance_standby", false);
        o.put("server_time_utc", now().getEpochSecond());
        o.put("version", "1.15.0");
        o.put("cluster_name", "vault-test");
        return Reply.json(sealed ? 503 : 200, o);
    }

    private ObjectNode sealStatus() {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", "shamir");
        o.put("initialized", true);
        o.put("sealed", sealed);
        o.put("t", 1);
        o.put("n", 1);
        o.put("progress", 0);
        o.put("version", "1.15.0");
        return o;
    }

    private Reply sysMounts() {
        ObjectNode data = JSON.createObjectNode();
        data.set("cubbyhole/", mountEntry("cubbyhole", "per-token private secret storage", Duration.ZERO,
                Duration.ZERO));
        data.set("identity/", mountEntry("identity", "identity store", Duration.ZERO, Duration.ZERO));
        data.set("sys/", mountEntry("system", "system endpoints used for control, policy and debugging",
                Duration.ZERO, Duration.ZERO));
        for (VaultPkiMount m : new TreeMap<>(mounts).values()) {
            data.set(m.path + "/", mountEntry("pki", "", m.defaultLeaseTtl, m.maxLeaseTtl));
        }
        // Vault answers the mounts both at the top level (the legacy shape) and under "data".
        ObjectNode o = envelope(data);
        data.fields().forEachRemaining(e -> o.set(e.getKey(), e.getValue()));
        return Reply.json(200, o);
    }

    private ObjectNode mountEntry(String type, String description, Duration defaultTtl, Duration maxTtl) {
        ObjectNode e = JSON.createObjectNode();
        e.put("type", type);
        e.put("description", description);
        e.put("accessor", type + "_" + Integer.toHexString(description.hashCode() ^ type.hashCode()));
        ObjectNode c = e.putObject("config");
        c.put("default_lease_ttl", defaultTtl.toSeconds());
        c.put("max_lease_ttl", maxTtl.toSeconds());
        c.put("force_no_cache", false);
        e.put("local", false);
        e.put("seal_wrap", false);
        e.putObject("options");
        return e;
    }

    private Reply sysMount(String rest, String method, VaultParams params) {
        boolean tune = rest.endsWith("/tune");
        String name = strip(tune ? rest.substring(0, rest.length() - "/tune".length()) : rest);
        if (tune) {
            VaultPkiMount m = mounts.get(name);
            if (m == null) {
                throw VaultError.badRequest("cannot fetch sysview for path \"" + name + "/\"");
            }
            if (method.equals("GET")) {
                ObjectNode d = JSON.createObjectNode();
                d.put("default_lease_ttl", m.defaultLeaseTtl.toSeconds());
                d.put("max_lease_ttl", m.maxLeaseTtl.toSeconds());
                return Reply.json(200, envelope(d));
            }
            Duration def = params.duration("default_lease_ttl");
            Duration max = params.duration("max_lease_ttl");
            if (def != null) {
                m.defaultLeaseTtl = def.isZero() ? VaultPkiMount.SYSTEM_TTL : def;
            }
            if (max != null) {
                m.maxLeaseTtl = max.isZero() ? VaultPkiMount.SYSTEM_TTL : max;
            }
            return Reply.noContent();
        }
        switch (method) {
            case "POST", "PUT" -> {
                String type = params.string("type", "");
                if (!type.equals("pki")) {
                    throw VaultError.badRequest("plugin not found in the catalog: " + type
                            + " (this test server mounts only pki)");
                }
                if (mounts.containsKey(name)) {
                    throw VaultError.badRequest("path is already in use at " + name + "/");
                }
                VaultPkiMount m = new VaultPkiMount(name);
                mounts.put(name, m);
                return Reply.noContent();
            }
            case "DELETE" -> {
                mounts.remove(name);
                return Reply.noContent();
            }
            default -> throw VaultError.multi(405, "unsupported operation");
        }
    }

    private static final java.util.regex.Pattern HCL_PATH = java.util.regex.Pattern.compile(
            "path\\s+\"([^\"]+)\"\\s*\\{\\s*capabilities\\s*=\\s*\\[([^\\]]*)\\]\\s*\\}");

    /** {@code sys/policies/acl/:name}: the HCL subset {@code path "p" { capabilities = ["read", ...] }}. */
    private Reply sysPolicy(String name, String method, VaultParams params) {
        switch (method) {
            case "GET" -> {
                Map<String, Set<String>> rules = auth.policies.get(name);
                if (rules == null) {
                    throw new VaultError(404, List.of());
                }
                StringBuilder hcl = new StringBuilder();
                new TreeMap<>(rules).forEach((p, caps) -> hcl.append("path \"").append(p)
                        .append("\" { capabilities = [").append(String.join(", ",
                                caps.stream().sorted().map(c -> "\"" + c + "\"").toList())).append("] }\n"));
                ObjectNode d = JSON.createObjectNode();
                d.put("name", name);
                d.put("policy", hcl.toString());
                d.put("rules", hcl.toString());
                return Reply.json(200, envelope(d));
            }
            case "POST", "PUT" -> {
                if (name.equals("root")) {
                    throw VaultError.badRequest("cannot update \"root\" policy");
                }
                String text = params.string("policy", params.string("rules", ""));
                Map<String, Set<String>> rules = new java.util.LinkedHashMap<>();
                java.util.regex.Matcher m = HCL_PATH.matcher(text);
                while (m.find()) {
                    Set<String> caps = new java.util.LinkedHashSet<>();
                    for (String c : m.group(2).split(",")) {
                        String cap = c.trim().replace("\"", "");
                        if (!cap.isEmpty()) {
                            caps.add(cap);
                        }
                    }
                    rules.put(m.group(1), caps);
                }
                if (rules.isEmpty()) {
                    throw VaultError.badRequest("failed to parse policy: no path stanzas (this test server reads "
                            + "only path \"...\" { capabilities = [...] })");
                }
                auth.policies.put(name, Map.copyOf(rules));
                return Reply.noContent();
            }
            case "DELETE" -> {
                auth.policies.remove(name);
                return Reply.noContent();
            }
            default -> throw VaultError.multi(405, "unsupported operation");
        }
    }

    // ---- auth/token ----

    private Reply tokenApi(String op, String method, VaultParams params, VaultAuth.Token token) {
        Instant now = now();
        switch (op) {
            case "lookup-self" -> {
                return Reply.json(200, envelope(lookupData(token, now)));
            }
            case "renew-self" -> {
                requirePost(method);
                if (!token.renewable) {
                    throw VaultError.badRequest("lease is not renewable");
                }
                Duration increment = params.duration("increment");
                renew(token, increment, now);
                return Reply.json(200, authEnvelope(token, now));
            }
            case "revoke-self" -> {
                requirePost(method);
                revoke(token.id);
                return Reply.noContent();
            }
            case "create" -> {
                requirePost(method);
                Duration ttl = params.duration("ttl");
                Duration max = params.duration("explicit_max_ttl");
                List<String> policies = params.list("policies");
                if (policies.isEmpty()) {
                    policies = token.policies;
                }
                if (!token.root() && policies.contains("root")) {
                    throw VaultError.badRequest("root or sudo privileges required to create root token");
                }
                VaultAuth.Token t = auth.create(policies, ttl == null ? VaultPkiMount.SYSTEM_TTL : ttl,
                        max == null ? Duration.ZERO : max, params.bool("renewable", true), now, Map.of(),
                        "auth/token/create");
                return Reply.json(200, authEnvelope(t, now));
            }
            default -> throw VaultError.multi(404, "unsupported path");
        }
    }

    private void renew(VaultAuth.Token t, Duration increment, Instant now) {
        Duration ttl = increment == null || increment.isNegative() || increment.isZero() ? t.creationTtl : increment;
        if (ttl.isZero()) {
            return;
        }
        Instant expiry = now.plus(ttl);
        Duration max = t.explicitMaxTtl.isZero() ? VaultPkiMount.SYSTEM_TTL : t.explicitMaxTtl;
        Instant limit = t.issueTime.plus(max);
        if (expiry.isAfter(limit)) {
            expiry = limit;
        }
        t.expireTime = expiry;
    }

    private ObjectNode lookupData(VaultAuth.Token t, Instant now) {
        ObjectNode d = JSON.createObjectNode();
        d.put("accessor", t.accessor);
        d.put("creation_time", t.issueTime.getEpochSecond());
        d.put("creation_ttl", t.creationTtl.toSeconds());
        d.put("display_name", "token");
        d.put("entity_id", "");
        if (t.expireTime == null) {
            d.putNull("expire_time");
        } else {
            d.put("expire_time", DateTimeFormatter.ISO_INSTANT.format(t.expireTime));
        }
        d.put("explicit_max_ttl", t.explicitMaxTtl.toSeconds());
        d.put("id", t.id);
        d.put("issue_time", DateTimeFormatter.ISO_INSTANT.format(t.issueTime));
        ObjectNode meta = d.putObject("meta");
        t.meta.forEach(meta::put);
        d.put("num_uses", 0);
        d.put("orphan", !t.path.equals("auth/token/create"));
        d.put("path", t.path);
        ArrayNode p = d.putArray("policies");
        t.policies.forEach(p::add);
        d.put("renewable", t.renewable);
        d.put("ttl", t.ttlSeconds(now));
        d.put("type", "service");
        return d;
    }

    private ObjectNode authEnvelope(VaultAuth.Token t, Instant now) {
        ObjectNode o = envelope(null);
        o.putNull("data");
        ObjectNode a = o.putObject("auth");
        a.put("client_token", t.id);
        a.put("accessor", t.accessor);
        ArrayNode p = a.putArray("policies");
        t.policies.forEach(p::add);
        ArrayNode tp = a.putArray("token_policies");
        t.policies.forEach(tp::add);
        ObjectNode meta = a.putObject("metadata");
        t.meta.forEach(meta::put);
        a.put("lease_duration", t.ttlSeconds(now));
        a.put("renewable", t.renewable);
        a.put("entity_id", "");
        a.put("token_type", "service");
        a.put("orphan", !t.path.equals("auth/token/create"));
        return o;
    }

    // ---- auth/approle ----

    private Reply appRoleApi(String op, String method, VaultParams params) {
        Instant now = now();
        if (op.equals("login")) {
            requirePost(method);
            String roleId = params.string("role_id", "");
            if (roleId.isEmpty()) {
                throw VaultError.badRequest("missing role_id");
            }
            String secretId = params.string("secret_id", "");
            VaultAuth.AppRole role = auth.appRoles.values().stream().filter(r -> r.roleId.equals(roleId))
                    .findFirst().orElse(null);
            if (role == null || !role.secretIds.contains(secretId)) {
                throw VaultError.badRequest("invalid role or secret ID");
            }
            Duration ttl = role.tokenTtl.isZero() ? VaultPkiMount.SYSTEM_TTL : role.tokenTtl;
            VaultAuth.Token t = auth.create(role.policies, ttl, role.tokenMaxTtl, true, now,
                    Map.of("role_name", role.name), "auth/approle/login");
            return Reply.json(200, authEnvelope(t, now));
        }
        if (!op.startsWith("role/")) {
            throw VaultError.multi(404, "unsupported path");
        }
        String[] parts = op.substring("role/".length()).split("/", 2);
        String name = parts[0];
        String sub = parts.length > 1 ? parts[1] : "";
        VaultAuth.AppRole role = auth.appRoles.get(name);
        switch (sub) {
            case "" -> {
                if (method.equals("GET")) {
                    if (role == null) {
                        throw new VaultError(404, List.of());
                    }
                    ObjectNode d = JSON.createObjectNode();
                    d.put("token_ttl", role.tokenTtl.toSeconds());
                    d.put("token_max_ttl", role.tokenMaxTtl.toSeconds());
                    ArrayNode p = d.putArray("token_policies");
                    role.policies.forEach(p::add);
                    d.put("bind_secret_id", true);
                    return Reply.json(200, envelope(d));
                }
                if (method.equals("DELETE")) {
                    auth.appRoles.remove(name);
                    return Reply.noContent();
                }
                VaultAuth.AppRole r = role == null ? new VaultAuth.AppRole(name) : role;
                Duration ttl = params.duration("token_ttl");
                Duration max = params.duration("token_max_ttl");
                r.tokenTtl = ttl == null ? r.tokenTtl : ttl;
                r.tokenMaxTtl = max == null ? r.tokenMaxTtl : max;
                List<String> policies = params.has("token_policies") ? params.list("token_policies")
                        : params.list("policies");
                if (params.has("token_policies") || params.has("policies")) {
                    r.policies = policies;
                }
                auth.appRoles.put(name, r);
                return Reply.noContent();
            }
            case "role-id" -> {
                if (role == null) {
                    throw VaultError.badRequest("role " + name + " does not exist");
                }
                if (method.equals("GET")) {
                    ObjectNode d = JSON.createObjectNode();
                    d.put("role_id", role.roleId);
                    return Reply.json(200, envelope(d));
                }
                role.roleId = params.string("role_id", role.roleId);
                return Reply.noContent();
            }
            case "secret-id" -> {
                if (role == null) {
                    throw VaultError.badRequest("role \"" + name + "\" does not exist");
                }
                requirePost(method);
                String secretId = UUID.randomUUID().toString();
                role.secretIds.add(secretId);
                ObjectNode d = JSON.createObjectNode();
                d.put("secret_id", secretId);
                d.put("secret_id_accessor", UUID.randomUUID().toString());
                d.put("secret_id_ttl", 0);
                d.put("secret_id_num_uses", 0);
                return Reply.json(200, envelope(d));
            }
            default -> throw VaultError.multi(404, "unsupported path");
        }
    }

    // ---- PKI ----

    private Reply pkiApi(VaultPkiMount m, String op, String method, boolean list, VaultParams params) {
        Instant now = now();
        if (op.equals("roles") || op.equals("roles/")) {
            if (!list) {
                throw VaultError.multi(405, "unsupported operation");
            }
            if (m.roles.isEmpty()) {
                throw new VaultError(404, List.of());
            }
            ObjectNode d = JSON.createObjectNode();
            ArrayNode keys = d.putArray("keys");
            new TreeMap<>(m.roles).keySet().forEach(keys::add);
            return Reply.json(200, envelope(d));
        }
        if (op.startsWith("roles/")) {
            String name = op.substring("roles/".length());
            switch (method) {
                case "GET" -> {
                    VaultPkiRole r = m.roles.get(name);
                    if (r == null) {
                        throw new VaultError(404, List.of());
                    }
                    return Reply.json(200, envelope(r.toJson()));
                }
                case "POST", "PUT" -> {
                    VaultPkiRole r = VaultPkiRole.from(name, params);
                    m.roles.put(name, r);
                    // Vault 1.13+ answers the role it stored.
                    return Reply.json(200, envelope(r.toJson()));
                }
                case "DELETE" -> {
                    m.roles.remove(name);
                    return Reply.noContent();
                }
                default -> throw VaultError.multi(405, "unsupported operation");
            }
        }
        switch (op) {
            case "root/generate/internal", "root/generate/exported" -> {
                requirePost(method);
                Duration ttl = params.duration("ttl");
                List<String> warnings = new ArrayList<>();
                Duration t = ttl == null || ttl.isZero() ? m.maxLeaseTtl : ttl;
                if (t.compareTo(m.maxLeaseTtl) > 0) {
                    warnings.add("TTL \"" + t.toSeconds() + "s\" is longer than the mount's max_lease_ttl; capping");
                    t = m.maxLeaseTtl;
                }
                Integer maxPath = params.integer("max_path_length", -1) < 0 ? null
                        : params.integer("max_path_length", -1);
                X509Certificate cert = m.generateRoot(params.string("common_name", ""), t,
                        params.string("key_type", "rsa"), params.integer("key_bits", 0), maxPath, now);
                ObjectNode d = JSON.createObjectNode();
                d.put("certificate", pem(cert));
                d.put("issuing_ca", pem(cert));
                d.put("serial_number", VaultPkiMount.serial(cert));
                d.put("expiration", cert.getNotAfter().toInstant().getEpochSecond());
                d.put("issuer_id", UUID.randomUUID().toString());
                d.put("key_id", UUID.randomUUID().toString());
                ObjectNode o = envelope(d);
                if (!warnings.isEmpty()) {
                    ArrayNode w = o.putArray("warnings");
                    warnings.forEach(w::add);
                }
                return Reply.json(200, o);
            }
            case "intermediate/generate/internal" -> {
                requirePost(method);
                var csr = m.generateIntermediateCsr(params.string("common_name", ""),
                        params.string("key_type", "rsa"), params.integer("key_bits", 0));
                ObjectNode d = JSON.createObjectNode();
                d.put("csr", Pem.writeCsr(csr));
                d.put("key_id", UUID.randomUUID().toString());
                return Reply.json(200, envelope(d));
            }
            case "root/sign-intermediate" -> {
                requirePost(method);
                var csr = VaultPkiMount.parseCsr(params.string("csr", ""));
                Duration ttl = params.duration("ttl");
                Duration t = ttl == null || ttl.isZero() ? m.maxLeaseTtl : ttl;
                t = t.compareTo(m.maxLeaseTtl) > 0 ? m.maxLeaseTtl : t;
                Integer maxPath = params.integer("max_path_length", -1) < 0 ? null
                        : params.integer("max_path_length", -1);
                X509Certificate cert = m.signIntermediate(csr, params.string("common_name", ""), t, maxPath, now);
                return Reply.json(200, envelope(issuedData(cert, m.caChain(), null,
                        params.string("format", "pem"))));
            }
            case "intermediate/set-signed" -> {
                requirePost(method);
                List<X509Certificate> certs;
                try {
                    certs = Pem.readCertificates(params.string("certificate", ""));
                } catch (RuntimeException e) {
                    throw VaultError.badRequest("no data found in PEM block");
                }
                m.setSigned(certs);
                return Reply.noContent();
            }
            case "ca_chain" -> {
                return Reply.raw(chainPem(m), "application/pem-certificate-chain");
            }
            case "ca/pem" -> {
                return Reply.raw(m.hasCa() ? pem(m.caCertificate()) : "", "application/pem-certificate-chain");
            }
            case "cert/ca_chain", "cert/ca" -> {
                ObjectNode d = JSON.createObjectNode();
                String text = op.equals("cert/ca") ? (m.hasCa() ? pem(m.caCertificate()) : "") : chainPem(m);
                d.put("certificate", text);
                d.put("ca_chain", chainPem(m));
                d.put("revocation_time", 0);
                return Reply.json(200, envelope(d));
            }
            default -> { }
        }
        if (op.startsWith("cert/")) {
            X509Certificate c;
            try {
                c = m.find(op.substring("cert/".length()));
            } catch (NumberFormatException e) {
                c = null;
            }
            if (c == null) {
                throw new VaultError(404, List.of());
            }
            ObjectNode d = JSON.createObjectNode();
            d.put("certificate", pem(c));
            d.put("revocation_time", 0);
            return Reply.json(200, envelope(d));
        }
        if (op.startsWith("sign/") || op.startsWith("issue/")) {
            requirePost(method);
            boolean sign = op.startsWith("sign/");
            String roleName = op.substring(sign ? 5 : 6);
            VaultPkiRole role = m.roles.get(roleName);
            if (role == null) {
                throw VaultError.badRequest("unknown role: " + roleName);
            }
            String format = params.string("format", "pem");
            if (!List.of("pem", "pem_bundle", "der").contains(format)) {
                throw VaultError.badRequest("invalid format specified");
            }
            VaultPkiMount.Request req = new VaultPkiMount.Request(params.string("common_name", ""),
                    params.list("alt_names"), params.list("uri_sans"), params.duration("ttl"),
                    params.bool("exclude_cn_from_sans", false));
            VaultPkiMount.Issued issued = sign
                    ? m.sign(role, VaultPkiMount.parseCsr(params.string("csr", "")), req, now)
                    : m.issueWithNewKey(role, req, now);
            return Reply.json(200, envelope(issuedData(issued.certificate(), issued.caChain(),
                    issued.privateKey(), format)));
        }
        throw VaultError.multi(404, "unsupported path");
    }

    private static ObjectNode issuedData(X509Certificate cert, List<X509Certificate> caChain,
            java.security.PrivateKey key, String format) {
        ObjectNode d = JSON.createObjectNode();
        String certText = pem(cert);
        if (format.equals("pem_bundle")) {
            certText = (key == null ? "" : Pem.writePrivateKey(key)) + certText + pem(caChain.get(0));
        }
        d.put("certificate", format.equals("der") ? base64(cert) : certText);
        d.put("issuing_ca", format.equals("der") ? base64(caChain.get(0)) : pem(caChain.get(0)));
        ArrayNode chain = d.putArray("ca_chain");
        caChain.forEach(c -> chain.add(format.equals("der") ? base64(c) : pem(c)));
        d.put("serial_number", VaultPkiMount.serial(cert));
        d.put("expiration", cert.getNotAfter().toInstant().getEpochSecond());
        if (key != null) {
            d.put("private_key", Pem.writePrivateKey(key).trim());
            d.put("private_key_type", key.getAlgorithm().equals("EC") ? "ec" : "rsa");
        }
        return d;
    }

    private static String chainPem(VaultPkiMount m) {
        StringBuilder s = new StringBuilder();
        for (X509Certificate c : m.caChain()) {
            s.append(pem(c)).append('\n');
        }
        return s.toString();
    }

    /** One certificate as PEM without the trailing newline, the way Vault's JSON fields carry it. */
    private static String pem(X509Certificate c) {
        return Pem.writeCertificates(List.of(c)).trim();
    }

    private static String base64(X509Certificate c) {
        try {
            return java.util.Base64.getEncoder().encodeToString(c.getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void requirePost(String method) {
        if (!method.equals("POST") && !method.equals("PUT")) {
            throw VaultError.multi(405, "unsupported operation");
        }
    }

    private static void send(HttpExchange ex, Reply reply) throws IOException {
        byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", reply.contentType());
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(reply.status(), bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
