package io.meshfed.cli.consul;

import io.meshfed.api.ConsulNames;

import java.util.Collection;
import java.util.TreeSet;

/**
 * The least-privilege ACL policy of a Consul member's token, in Consul's HCL rules syntax: read every service and
 * node (the health of an instance is read with its node, and Consul silently leaves out what a token may not
 * read), write only the synthetic node {@code meshfed-gateway-<network>}, and write each Consul name that imports
 * are published under ({@code <name>-<namespace>}); without names, a commented line says what to add.
 */
final class ConsulPolicy {
    private ConsulPolicy() {
    }

    /** The policy for a member in {@code network} that publishes the federated services {@code published}. */
    static String render(String network, Collection<String> published) {
        StringBuilder b = new StringBuilder();
        b.append("# meshfed Consul member of network ").append(network).append(": least-privilege ACL policy\n");
        b.append("# read the catalog and every instance's health (health reads need node:read)\n");
        b.append("service_prefix \"\" { policy = \"read\" }\n");
        b.append("node_prefix \"\" { policy = \"read\" }\n");
        b.append("# the synthetic node that imported services are registered on\n");
        b.append(ConsulNames.nodeRule(network)).append('\n');
        b.append("# imported services, registered as <name>-<namespace>\n");
        if (published.isEmpty()) {
            b.append("# service \"hello-demo\" { policy = \"write\" }   (one per imported service;"
                    + " --publish NAME.NAMESPACE adds them)\n");
        }
        for (String s : new TreeSet<>(published)) {
            b.append("service \"").append(s).append("\" { policy = \"write\" }\n");
        }
        return b.toString();
    }

    /** {@code hello.demo} as Consul names it ({@code hello-demo}). */
    static String consulName(String serviceDotNamespace) {
        int dot = serviceDotNamespace.indexOf('.');
        if (dot <= 0 || dot == serviceDotNamespace.length() - 1) {
            throw new IllegalArgumentException("'" + serviceDotNamespace + "' is not NAME.NAMESPACE");
        }
        return ConsulNames.service(serviceDotNamespace.substring(0, dot),
                serviceDotNamespace.substring(dot + 1));
    }
}
