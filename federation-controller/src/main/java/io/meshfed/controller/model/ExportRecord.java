package io.meshfed.controller.model;

import java.util.List;
import java.util.TreeSet;

/**
 * The export policy of a service ({@code name.namespace}, the same in every member): to every member, or to the
 * named ones. Absent means exported to nobody (default deny).
 */
public record ExportRecord(String service, String namespace, boolean toAll, List<String> toMembers) {
    public ExportRecord {
        toMembers = toMembers == null ? List.of() : List.copyOf(new TreeSet<>(toMembers));
    }

    public static String key(String service, String namespace) {
        return service + "." + namespace;
    }

    public boolean exportedTo(String member) {
        return toAll || toMembers.contains(member);
    }

    public boolean isEmpty() {
        return !toAll && toMembers.isEmpty();
    }
}
