package io.meshfed.controller.model;

import java.util.List;

/**
 * Pods of a Kubernetes member that the member's own east-west gateways may attest by their source address, as the
 * member's cluster connector read them: one shard of them, keyed {@link #key(String, int)}, so that a pod's change
 * rewrites one shard and not every pod of the cluster. Each address appears in at most one pod of all the member's
 * shards (an address held by two pods attests nobody and is not stored). The identity of a pod is not stored: it is
 * built from the namespace and service account in the member's own trust domain when a snapshot is made, so no
 * record can name another trust domain.
 */
public record PodIdentitiesRecord(String member, int shard, List<Pod> pods) {
    /** How many shards a member's pods are spread over (by a hash of the address). */
    public static final int SHARDS = 16;

    public PodIdentitiesRecord {
        pods = pods == null ? List.of() : List.copyOf(pods);
    }

    /** One attestable pod: its IP (canonical text), namespace and service account. */
    public record Pod(String address, String namespace, String serviceAccount) {}

    /** The key of shard {@code shard} of {@code member}'s pods. */
    public static String key(String member, int shard) {
        if (shard < 0 || shard >= SHARDS) {
            throw new IllegalArgumentException("shard " + shard + " is outside 0-" + (SHARDS - 1));
        }
        return member + "/" + shard;
    }

    /** Whether {@code key} is the key of one of {@code member}'s shards. */
    public static boolean isKeyOf(String key, String member) {
        if (!key.startsWith(member + "/")) {
            return false;
        }
        String rest = key.substring(member.length() + 1);
        return rest.matches("\\d{1,2}") && Integer.parseInt(rest) < SHARDS;
    }

    /** The shard an address belongs to (stable: {@link String#hashCode()} is specified). */
    public static int shardOf(String address) {
        return Math.floorMod(address.hashCode(), SHARDS);
    }
}
