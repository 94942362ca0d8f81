package io.meshfed.controller.connector.consul;

import com.ecwid.consul.v1.health.model.Check;
import com.ecwid.consul.v1.health.model.HealthService;
import io.meshfed.api.DnsLabel;
import io.meshfed.api.Locality;
import io.meshfed.controller.model.WorkloadSetRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one Consul service's health entries become in meshfed: one workload per instance, or a reason it is left out.
 * Everything here is the member's report, so untrusted: names must be DNS labels, ports in range, addresses short,
 * and the count per service is bounded. Health comes from every check on the instance (its own and its node's):
 * any critical (or a status meshfed does not know) makes it unhealthy; a warning keeps it healthy at a tenth of a
 * passing instance's weight ({@link #PASSING_WEIGHT} against {@link #WARNING_WEIGHT}). Locality is the node meta
 * {@code region} and {@code zone}.
 */
final class ConsulInstances {
    /** At most this many instances of one service are taken; the rest are left out and counted. */
    static final int MAX_INSTANCES_PER_SERVICE = 5_000;
    /** Each distinct instance port becomes a federated service port: at most this many per service. */
    static final int MAX_PORTS_PER_SERVICE = 16;
    static final int PASSING_WEIGHT = 10;
    static final int WARNING_WEIGHT = 1;
    private static final int MAX_ADDRESS = 253;

    private ConsulInstances() {
    }

    /** The workloads, and one line per kind of entry left out (empty when none was). */
    record Result(List<WorkloadSetRecord.Workload> workloads, List<String> leftOut) { }

    static Result of(String consulName, List<HealthService> entries, NamespaceFrom namespaceFrom) {
        List<WorkloadSetRecord.Workload> out = new ArrayList<>();
        List<String> leftOut = new ArrayList<>();
        if (!DnsLabel.matches(consulName)) {
            leftOut.add("service '" + consulName + "': the name " + DnsLabel.RULE);
            return new Result(out, leftOut);
        }
        int refused = 0;
        String first = null;
        java.util.Set<Integer> ports = new java.util.TreeSet<>();
        for (HealthService h : entries) {
            if (out.size() >= MAX_INSTANCES_PER_SERVICE) {
                leftOut.add(consulName + ": more than " + MAX_INSTANCES_PER_SERVICE + " instances; "
                        + (entries.size() - MAX_INSTANCES_PER_SERVICE) + " left out");
                break;
            }
            HealthService.Service s = h.getService();
            if (s == null) {
                continue;
            }
            List<String> tags = s.getTags() == null ? List.of() : s.getTags();
            if (published(h, tags)) {
                continue; // meshfed's own registration of an import: never read back as the datacenter's
            }
            String namespace = namespaceFrom.namespaceOf(tags, s.getMeta());
            String address = s.getAddress() == null || s.getAddress().isEmpty()
                    ? (h.getNode() == null ? null : h.getNode().getAddress()) : s.getAddress();
            Integer port = s.getPort();
            String why = null;
            if (!DnsLabel.matches(namespace)) {
                why = "namespace '" + namespace + "' " + DnsLabel.RULE;
            } else if (port == null || port < 1 || port > 65535) {
                why = "port " + port + " is not 1-65535";
            } else if (address == null || address.isEmpty() || address.length() > MAX_ADDRESS) {
                why = "no usable address";
            } else if (!ports.contains(port) && ports.size() >= MAX_PORTS_PER_SERVICE) {
                why = "more than " + MAX_PORTS_PER_SERVICE + " distinct ports in one service";
            }
            if (why != null) {
                refused++;
                first = first == null ? consulName + " instance " + ConsulCatalogWatch.printable(String.valueOf(
                        s.getId())) + ": " + why : first;
                continue;
            }
            ports.add(port);
            Health health = health(h.getChecks());
            out.add(new WorkloadSetRecord.Workload(consulName, namespace, address, port, health != Health.CRITICAL,
                    locality(h.getNode() == null ? null : h.getNode().getMeta()), null,
                    health == Health.WARNING ? WARNING_WEIGHT : PASSING_WEIGHT));
        }
        if (refused > 0) {
            leftOut.add(refused + " instance(s) left out (first: " + first + ")");
        }
        return new Result(out, leftOut);
    }

    /** Whether an entry is one meshfed registered: on a synthetic node, or carrying the import tag. */
    private static boolean published(HealthService h, List<String> tags) {
        String node = h.getNode() == null ? null : h.getNode().getNode();
        return tags.contains(ConsulCatalogWatch.IMPORT_TAG)
                || io.meshfed.api.ConsulNames.isSyntheticNode(node);
    }

    private enum Health { PASSING, WARNING, CRITICAL }

    private static Health health(List<Check> checks) {
        Health worst = Health.PASSING;
        for (Check c : checks == null ? List.<Check>of() : checks) {
            Check.CheckStatus st = c.getStatus();
            if (st == Check.CheckStatus.PASSING) {
                continue;
            }
            if (st == Check.CheckStatus.WARNING) {
                worst = Health.WARNING;
            } else {
                return Health.CRITICAL; // critical, maintenance or anything unknown
            }
        }
        return worst;
    }

    private static String locality(Map<String, String> nodeMeta) {
        if (nodeMeta == null) {
            return "";
        }
        Locality l = Locality.parse(nodeMeta.getOrDefault("region", "")
                + (nodeMeta.getOrDefault("zone", "").isEmpty() ? "" : "/" + nodeMeta.get("zone")));
        return l.toString();
    }
}
