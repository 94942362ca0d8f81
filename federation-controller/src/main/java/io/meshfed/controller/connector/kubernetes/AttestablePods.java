package io.meshfed.controller.connector.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.meshfed.controller.catalog.MemberAddresses;
import io.meshfed.controller.model.PodIdentitiesRecord;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.TrustDomain;
import io.netty.util.NetUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which pods of a member cluster its east-west gateways may attest by source address, computed from the Pods
 * informer's cache. Pure. A pod is attested at each of its IPs ({@code status.podIPs}, else {@code status.podIP})
 * with its namespace and service account ({@code spec.serviceAccountName}, default {@code default}) when:
 * <ul>
 * <li>it is {@code Running} and not {@code hostNetwork} (those share the node's IP, and so every host process's);
 * <li>no other live pod (any phase but Succeeded and Failed, host-network ones included) holds the same IP at the
 *     same time (churn or misconfiguration): such an IP attests nobody, since the caller may be either;
 * <li>the IP is one the member may report ({@link MemberAddresses#endpointRefusal}: an IP literal, inside its CIDRs
 *     when it has some, else not loopback, link-local, unspecified or multicast);
 * <li>its namespace and service account are each one valid SPIFFE path segment, so that its identity
 *     {@code spiffe://<cluster td>/ns/<ns>/sa/<sa>} ({@link MeshfedIds#workload}) can be built.
 * </ul>
 * A cluster with more pods than the bound attests none at all (never a partial, possibly wrong, set).
 */
final class AttestablePods {
    /** The default bound of pods per cluster (the controller's {@code maxPodsPerCluster}). */
    static final int DEFAULT_MAX_PODS = 100_000;

    /**
     * The outcome: the pods to store (sorted by address), how many pods the cache held, and what was left out and
     * why, each with a count and its first example.
     */
    record Result(List<PodIdentitiesRecord.Pod> pods, int total, boolean overLimit, int maxPods, Skipped malformed,
            Skipped sharedAddresses, Skipped refusedAddresses) {
        /** Whether attestation is on (the cluster is within the bound). */
        boolean enabled() {
            return !overLimit;
        }

        /** What the connector's status says about attestation; empty when every attestable pod is attested. */
        String problem() {
            if (overLimit) {
                return "pod attestation is off: the cluster has " + total + " pods, more than maxPodsPerCluster ("
                        + maxPods + "); raise it (MESHFED_MAX_PODS_PER_CLUSTER) to attest this cluster's pods";
            }
            List<String> parts = new ArrayList<>();
            malformed.describe("pod(s) not attested, their namespace or service account is not a SPIFFE path"
                    + " segment", parts);
            sharedAddresses.describe("pod IP(s) held by more than one pod attest nobody", parts);
            refusedAddresses.describe("pod IP(s) not attested, not addresses the member may report", parts);
            return String.join("; ", parts);
        }
    }

    /** A count of left-out pods or addresses with the first one, for the status. */
    record Skipped(int count, String first) {
        static final Skipped NONE = new Skipped(0, "");

        Skipped plus(String example) {
            return new Skipped(count + 1, count == 0 ? example : first);
        }

        void describe(String what, List<String> into) {
            if (count > 0) {
                into.add(count + " " + what + " (first: " + first + ")");
            }
        }
    }

    private AttestablePods() {}

    /**
     * @param trustDomain the member's trust domain (identities are never built in another)
     * @param addresses the member's address rule
     * @param maxPods the bound; more pods in the cache than this turns attestation off for the cluster
     */
    static Result compute(Collection<Pod> pods, TrustDomain trustDomain, MemberAddresses addresses, int maxPods) {
        if (pods.size() > maxPods) {
            return new Result(List.of(), pods.size(), true, maxPods, Skipped.NONE, Skipped.NONE, Skipped.NONE);
        }
        List<Pod> sorted = new ArrayList<>(pods);
        sorted.sort(Comparator.comparing(AttestablePods::name)); // the examples are the same on every sync
        // Every live pod's claim on each of its IPs, host-network ones included.
        Map<String, List<String>> holders = new HashMap<>();
        for (Pod p : sorted) {
            if (live(p)) {
                for (String ip : ips(p)) {
                    holders.computeIfAbsent(ip, k -> new ArrayList<>(1)).add(name(p));
                }
            }
        }
        List<PodIdentitiesRecord.Pod> attested = new ArrayList<>();
        Skipped malformed = Skipped.NONE;
        Skipped shared = Skipped.NONE;
        Skipped refused = Skipped.NONE;
        Set<String> sharedSeen = new java.util.HashSet<>();
        for (Pod p : sorted) {
            Set<String> ips = ips(p);
            if (!running(p) || hostNetwork(p) || ips.isEmpty()) {
                continue;
            }
            String namespace = p.getMetadata().getNamespace();
            String account = serviceAccount(p);
            try {
                MeshfedIds.workload(trustDomain, namespace, account);
            } catch (IllegalArgumentException e) {
                malformed = malformed.plus(name(p) + ": " + e.getMessage());
                continue;
            }
            for (String ip : ips) {
                List<String> claims = holders.getOrDefault(ip, List.of());
                if (claims.size() > 1) {
                    if (sharedSeen.add(ip)) {
                        shared = shared.plus(ip + " by " + String.join(", ", claims));
                    }
                    continue;
                }
                var refusal = addresses.endpointRefusal(ip);
                if (refusal.isPresent()) {
                    refused = refused.plus(name(p) + ": " + refusal.get());
                    continue;
                }
                attested.add(new PodIdentitiesRecord.Pod(ip, namespace, account));
            }
        }
        attested.sort(Comparator.comparing(PodIdentitiesRecord.Pod::address));
        return new Result(List.copyOf(attested), pods.size(), false, maxPods, malformed, shared, refused);
    }

    private static String name(Pod p) {
        return p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
    }

    private static String phase(Pod p) {
        return p.getStatus() == null || p.getStatus().getPhase() == null ? "" : p.getStatus().getPhase();
    }

    private static boolean running(Pod p) {
        return phase(p).equals("Running");
    }

    /** A pod whose IPs may be in use: anything but a terminated one (its IPs are released and may be reused). */
    private static boolean live(Pod p) {
        String phase = phase(p);
        return !phase.equals("Succeeded") && !phase.equals("Failed");
    }

    private static boolean hostNetwork(Pod p) {
        return p.getSpec() != null && Boolean.TRUE.equals(p.getSpec().getHostNetwork());
    }

    private static String serviceAccount(Pod p) {
        String account = p.getSpec() == null ? null : p.getSpec().getServiceAccountName();
        return account == null || account.isEmpty() ? "default" : account;
    }

    /**
     * The pod's IPs in canonical text ({@code status.podIPs}, else {@code status.podIP}); an entry that is not an IP
     * literal is dropped here and so never attested (a real API server sends none).
     */
    static Set<String> ips(Pod p) {
        if (p.getStatus() == null) {
            return Set.of();
        }
        List<String> raw = new ArrayList<>();
        if (p.getStatus().getPodIPs() != null) {
            for (PodIP ip : p.getStatus().getPodIPs()) {
                if (ip != null && ip.getIp() != null) {
                    raw.add(ip.getIp());
                }
            }
        }
        if (raw.isEmpty() && p.getStatus().getPodIP() != null) {
            raw.add(p.getStatus().getPodIP());
        }
        Set<String> ips = new LinkedHashSet<>();
        for (String text : raw) {
            String canonical = canonical(text);
            if (canonical != null) {
                ips.add(canonical);
            }
        }
        return ips;
    }

    /** The canonical text of an IP literal (an IPv4-mapped IPv6 address as IPv4), else null. */
    static String canonical(String text) {
        if (text.isEmpty() || text.indexOf('%') >= 0) {
            return null;
        }
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(text);
        if (ip == null) {
            return null;
        }
        if (ip.length == 16 && ipv4Mapped(ip)) {
            ip = Arrays.copyOfRange(ip, 12, 16);
        }
        return NetUtil.bytesToIpAddress(ip);
    }

    private static boolean ipv4Mapped(byte[] ip) {
        for (int i = 0; i < 10; i++) {
            if (ip[i] != 0) {
                return false;
            }
        }
        return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
    }
}
