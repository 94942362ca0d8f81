package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ControllerStatus;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.OutboundPortShortfall;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.ClusterTable;
import io.meshfed.cli.render.Table;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code meshfed status}. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "The controller, its store revision, and each subscriber's ACKed version, lag and last error.")
public final class StatusCommand extends AdminCommand {
    @Override
    MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.status(ListRequest.getDefaultInstance());
    }

    StatusCommand(CliContext context) {
        super(context);
    }

    /** One line per network whose imported service ports did not all get a listen port. */
    static String shortfall(OutboundPortShortfall p) {
        StringBuilder sb = new StringBuilder("network ").append(p.getNetwork()).append(": ")
                .append(p.getExhausted() + p.getOverQuota()).append(" imported service ports have no outbound listen"
                        + " port (");
        List<String> why = new java.util.ArrayList<>();
        if (p.getExhausted() > 0) {
            why.add(p.getExhausted() + " range exhausted");
        }
        if (p.getOverQuota() > 0) {
            why.add(p.getOverQuota() + " over their member's quota");
        }
        sb.append(String.join(", ", why));
        if (p.getFirstCount() > 0) {
            sb.append("; first: ").append(String.join(", ", p.getFirstList()));
        }
        return sb.append(')').toString();
    }

    @Override
    String table(MessageOrBuilder response) {
        ControllerStatus s = (ControllerStatus) response;
        StringBuilder sb = new StringBuilder();
        sb.append("controller  trust domain ").append(s.getTrustDomain()).append(", store revision ")
                .append(s.getStoreRevision()).append(", up since ").append(time(s.getStartedAt())).append('\n');
        if (!s.getLeader().isEmpty()) { // replicas on one shared store
            sb.append("leader      ").append(s.getLeader()).append(" (epoch ").append(s.getLeaderEpoch()).append(')')
                    .append(s.getLeader().equals(s.getReplica()) ? ", this replica" : ", answered by " + s.getReplica())
                    .append('\n');
        }
        if (!s.getOutboundPortRange().isEmpty()) {
            sb.append("outbound    ports ").append(s.getOutboundPortRange()).append(" in each importing network")
                    .append(s.getOutboundPortShortfallsCount() == 0 ? ", every imported service port has one" : "")
                    .append('\n');
        }
        for (OutboundPortShortfall p : s.getOutboundPortShortfallsList()) {
            sb.append("            ").append(shortfall(p)).append('\n');
        }
        sb.append("subscribers ").append(s.getSubscribersCount()).append("\n\n");
        Table t = new Table("SUBSCRIBER", "MEMBER", "NETWORK", "ACKED", "SENT", "LAG", "PUSHES", "LAST ERROR");
        for (SubscriberStatus x : s.getSubscribersList()) {
            t.row(x.getSpiffeId(), x.getMember(), x.getNetwork(), x.getAckedVersion(), x.getSentVersion(),
                    x.getLagMs() + "ms", pushes(x), x.getLastError());
        }
        String clusters = s.getClustersCount() == 0 ? ""
                : "\n" + ClusterTable.render(s.getClustersList());
        String consul = s.getConsulMembersCount() == 0 ? ""
                : "\n" + io.meshfed.cli.render.ConsulTable.render(s.getConsulMembersList());
        String rotations = s.getRotationsCount() == 0 ? ""
                : "\nRoot rotations in progress:\n" + RotationCommands.table(s.getRotationsList());
        String federations = s.getFederationsCount() == 0 ? ""
                : "\nSPIFFE federations:\n" + FederationCommands.table(s.getFederationsList());
        return sb + t.render() + clusters + consul + rotations + federations;
    }

    /** How a subscriber's pushes went: deltas and whole snapshots, or whole only when it takes no deltas. */
    static String pushes(SubscriberStatus x) {
        return x.getTakesDeltas() ? x.getWholePushes() + " whole, " + x.getDeltaPushes() + " delta"
                : x.getWholePushes() + " whole (no deltas)";
    }
}
