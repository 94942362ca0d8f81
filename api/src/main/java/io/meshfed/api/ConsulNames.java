package io.meshfed.api;

/**
 * The names meshfed uses inside a Consul datacenter, a contract between the controller's connector, the CLI's
 * policy and the operator's ACLs: the tags that export a service and mark what meshfed published, the synthetic
 * node imports are registered on, and the Consul name of a federated service ({@code hello.demo} is
 * {@code hello-demo}, so Consul DNS answers {@code hello-demo.service.consul}).
 */
public final class ConsulNames {
    /** The tag that exports a Consul service into the federation. */
    public static final String EXPORT_TAG = "meshfed-export";
    /** The tag of every registration meshfed makes; such services are never read back as exports. */
    public static final String IMPORT_TAG = "meshfed-import";
    private static final String NODE_PREFIX = "meshfed-gateway-";

    private ConsulNames() {
    }

    /** The synthetic node a network's imports are registered on. */
    public static String node(String network) {
        return NODE_PREFIX + network;
    }

    /** Whether a Consul node is one of meshfed's synthetic nodes (what is registered there is meshfed's). */
    public static boolean isSyntheticNode(String node) {
        return node != null && node.startsWith(NODE_PREFIX);
    }

    /**
     * A federated service's name in Consul. Not one-to-one ({@code hello.demo-prod} and {@code hello-demo.prod}
     * meet): whoever publishes must refuse a name two services would share.
     */
    public static String service(String name, String namespace) {
        return name + "-" + namespace;
    }

    /** The ACL rule that lets a member's token write its network's synthetic node. */
    public static String nodeRule(String network) {
        return "node \"" + node(network) + "\" { policy = \"write\" }";
    }
}
