package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ControllerStatus;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.ClusterTable;
import io.meshfed.cli.render.Table;
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

    @Override
    String table(MessageOrBuilder response) {
        ControllerStatus s = (ControllerStatus) response;
        StringBuilder sb = new StringBuilder();
        sb.append("controller  trust domain ").append(s.getTrustDomain()).append(", store revision ")
                .append(s.getStoreRevision()).append(", up since ").append(time(s.getStartedAt())).append('\n');
        sb.append("subscribers ").append(s.getSubscribersCount()).append("\n\n");
        Table t = new Table("SUBSCRIBER", "MEMBER", "NETWORK", "ACKED", "SENT", "LAG", "LAST ERROR");
        for (SubscriberStatus x : s.getSubscribersList()) {
            t.row(x.getSpiffeId(), x.getMember(), x.getNetwork(), x.getAckedVersion(), x.getSentVersion(),
                    x.getLagMs() + "ms", x.getLastError());
        }
        String clusters = s.getClustersCount() == 0 ? ""
                : "\n" + ClusterTable.render(s.getClustersList());
        return sb + t.render() + clusters;
    }
}
