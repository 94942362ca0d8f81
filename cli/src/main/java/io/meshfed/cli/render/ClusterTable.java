package io.meshfed.cli.render;

import io.meshfed.api.v1.ClusterState;
import java.time.Instant;
import java.util.List;

/** The member clusters table of {@code meshfed cluster list} and {@code meshfed status}. */
public final class ClusterTable {
    private ClusterTable() {}

    public static String render(List<ClusterState> clusters) {
        Table t = new Table("CLUSTER", "NETWORK", "SERVER", "STATE", "LAST SYNC", "EXPORTS", "IMPORTS", "LAST ERROR");
        for (ClusterState c : clusters) {
            t.row(c.getName(), c.getNetwork(), c.getServer(), c.getState(), c.getLastSync().getSeconds() == 0 ? "-"
                    : Instant.ofEpochSecond(c.getLastSync().getSeconds()).toString(),
                    String.valueOf(c.getExportedServices()), String.valueOf(c.getImportedServices()),
                    c.getLastError().isEmpty() ? "-" : c.getLastError());
        }
        return t.render();
    }
}
