package io.meshfed.controller.testing;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.InputStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A member cluster's API server: fabric8's mock server in CRUD mode (7.8.0) with the Multi-Cluster Services CRDs
 * created, so ServiceExport and ServiceImport resolve as generic resources. It can be stopped and started again on
 * the same port with the same objects (an API server outage). It keeps every request, so tests can tell which verbs
 * the connector (User-Agent meshfed-connector) used.
 */
public final class MockCluster implements AutoCloseable {
    /** Resources (plural names) the connector's requests are refused for, as RBAC without the verbs would. */
    private final java.util.Set<String> forbidden = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final KubernetesCrudDispatcher dispatcher = new KubernetesCrudDispatcher(List.of()) {
        @Override
        public io.fabric8.mockwebserver.http.MockResponse dispatch(RecordedRequest request) {
            String resource = resource(request.getPath());
            if (String.valueOf(request.getHeader("User-Agent")).startsWith("meshfed-connector")
                    && forbidden.contains(resource)) {
                return new io.fabric8.mockwebserver.http.MockResponse().setResponseCode(403)
                        .setHeader("Content-Type", "application/json")
                        .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\""
                                + resource + " is forbidden: User \\\"system:serviceaccount:meshfed-system:"
                                + "meshfed-connector\\\" cannot list resource \\\"" + resource + "\\\" in API group"
                                + " \\\"\\\" at the cluster scope\",\"reason\":\"Forbidden\",\"code\":403}");
            }
            return super.dispatch(request);
        }
    };
    private final List<RecordedRequest> connectorRequests = new ArrayList<>();
    private KubernetesMockServer server;
    private KubernetesClient client;
    private int port;

    public MockCluster() throws Exception {
        this(true);
    }

    /** A cluster without the MCS CRDs (as before {@code meshfed cluster join}). */
    public static MockCluster withoutCrds() throws Exception {
        return new MockCluster(false);
    }

    private MockCluster(boolean withCrds) throws Exception {
        start(0);
        if (!withCrds) {
            return;
        }
        try (InputStream crds = MockCluster.class.getResourceAsStream("/io/meshfed/api/kubernetes/multicluster-crds.yaml")) {
            for (Object o : io.meshfed.controller.testing.MockCluster.documents(crds)) {
                client.apiextensions().v1().customResourceDefinitions().resource((CustomResourceDefinition) o).create();
            }
        }
    }

    private void start(int onPort) throws Exception {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init(InetAddress.getByName("127.0.0.1"), onPort);
        port = server.getPort();
        client = server.createClient();
    }

    /** The objects of a multi-document YAML stream. */
    public static List<Object> documents(InputStream in) {
        Object o = Serialization.unmarshal(in);
        if (o instanceof io.fabric8.kubernetes.api.model.KubernetesList l) {
            return new ArrayList<>(l.getItems());
        }
        return o instanceof List<?> list ? new ArrayList<>(list) : List.of(o);
    }

    /** The operator's view of the cluster. */
    public KubernetesClient client() {
        return client;
    }

    public int port() {
        return port;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** A kubeconfig for this API server with a bearer token (the mock checks none). */
    public String kubeconfig(String token) {
        return "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + url() + "\n"
                + "users:\n- name: u\n  user:\n    token: " + token + "\ncontexts:\n- name: ctx\n  context:\n"
                + "    cluster: c\n    user: u\ncurrent-context: ctx\n";
    }

    /** The API server goes away (connections refused); objects are kept. */
    public void stop() {
        client.close();
        server.destroy();
    }

    /** The API server is back on the same port with the same objects. */
    public void restart() throws Exception {
        start(port);
    }

    /** From now on every request of the connector's (User-Agent meshfed-connector) on {@code resource} is forbidden. */
    public void forbidConnector(String resource) {
        forbidden.add(resource);
    }

    /** The connector may use {@code resource} again (its RBAC was granted, e.g. by a second cluster join). */
    public void allowConnector(String resource) {
        forbidden.remove(resource);
    }

    /** The resource (plural name, with a subresource as "name/sub") a request path is for. */
    private static String resource(String path) {
        List<String> parts = new ArrayList<>(List.of(path.split("\\?", 2)[0].replaceFirst("^/", "").split("/")));
        if (parts.size() < 3) {
            return "";
        }
        parts = parts.get(0).equals("api") ? parts.subList(2, parts.size()) : parts.subList(Math.min(3, parts.size()),
                parts.size());
        if (parts.size() >= 2 && parts.get(0).equals("namespaces")) {
            parts = parts.subList(2, parts.size());
        }
        return parts.isEmpty() ? "" : parts.get(0) + (parts.size() >= 3 ? "/" + parts.get(2) : "");
    }

    /** Verbs the connector used so far, as "group/resource" to the set of verbs (RBAC terms). */
    public synchronized Map<String, TreeSet<String>> connectorVerbs() throws InterruptedException {
        RecordedRequest r;
        while ((r = server.takeRequest(10, java.util.concurrent.TimeUnit.MILLISECONDS)) != null) {
            if (String.valueOf(r.getHeader("User-Agent")).startsWith("meshfed-connector")) {
                connectorRequests.add(r);
            }
        }
        Map<String, TreeSet<String>> verbs = new TreeMap<>();
        for (RecordedRequest req : connectorRequests) {
            String[] pathAndQuery = req.getPath().split("\\?", 2);
            List<String> parts = new ArrayList<>(List.of(pathAndQuery[0].replaceFirst("^/", "").split("/")));
            String group;
            if (parts.get(0).equals("api")) {
                group = "";
                parts = parts.subList(2, parts.size());
            } else {
                group = parts.get(1);
                parts = parts.subList(3, parts.size());
            }
            if (parts.size() >= 2 && parts.get(0).equals("namespaces")) {
                parts = parts.subList(2, parts.size());
            }
            String resource = parts.get(0) + (parts.size() >= 3 ? "/" + parts.get(2) : "");
            boolean single = parts.size() >= 2;
            String query = pathAndQuery.length > 1 ? pathAndQuery[1] : "";
            String verb = switch (req.getMethod()) {
                case "GET" -> query.contains("watch=true") ? "watch" : single ? "get" : "list";
                case "POST" -> "create";
                case "PUT" -> "update";
                case "PATCH" -> "patch";
                case "DELETE" -> single ? "delete" : "deletecollection";
                default -> req.getMethod();
            };
            verbs.computeIfAbsent(group + "/" + resource, k -> new TreeSet<>()).add(verb);
        }
        return verbs;
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}
