package io.meshfed.cli.render;

import io.meshfed.api.v1.ConsulState;
import java.time.Instant;
import java.util.List;

/** The Consul members table of {@code meshfed consul list}. */
public final class ConsulTable {
    private ConsulTable() {}

    public static String render(List<ConsulState> members) {
        Table t = new Table("MEMBER", "NETWORK", "AGENT", "DATACENTER", "STATE", "LAST SYNC", "EXPORTS", "IMPORTS",
                "LAST ERROR");
        for (ConsulState c : members) {
            t.row(c.getName(), c.getNetwork(), c.getAddress(), c.getDatacenter(), c.getState(),
                    c.getLastSync().getSeconds() == 0 ? "-" : Instant.ofEpochSecond(c.getLastSync().getSeconds())
                            .toString(), String.valueOf(c.getExportedServices()),
                    String.valueOf(c.getImportedServices()), c.getLastError().isEmpty() ? "-" : c.getLastError());
        }
        return t.render();
    }
}
