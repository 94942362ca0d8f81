package io.meshfed.controller.model;

import java.util.List;

/**
 * The service ports a network imports that got no listen port at the last allocation, stored only while there are
 * some: {@code exhausted} because the network's range had no free port left, {@code overQuota} because their
 * providing member already held its quota of the network's range. {@code first} names a few of them (sorted).
 */
public record PortShortfallRecord(String network, int exhausted, int overQuota, List<String> first) {
    /** How many service port keys {@link #first} names at most. */
    public static final int NAMED = 5;

    public PortShortfallRecord {
        first = first == null ? List.of() : List.copyOf(first);
    }

    /** One line for a status: network, counts and the first service ports. */
    public String describe() {
        StringBuilder sb = new StringBuilder("network ").append(network).append(": ")
                .append(exhausted + overQuota).append(" imported service ports got no outbound listen port");
        if (exhausted > 0) {
            sb.append(", ").append(exhausted).append(" because the range is exhausted");
        }
        if (overQuota > 0) {
            sb.append(", ").append(overQuota).append(" beyond their member's quota");
        }
        if (!first.isEmpty()) {
            sb.append(" (first: ").append(String.join(", ", first)).append(')');
        }
        return sb.toString();
    }
}
