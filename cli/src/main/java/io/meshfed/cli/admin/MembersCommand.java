package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Member;
import io.meshfed.api.v1.MemberList;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.Table;
import picocli.CommandLine.Command;

/** {@code meshfed members}. */
@Command(name = "members", mixinStandardHelpOptions = true, description = "List members and who joined them.")
public final class MembersCommand extends AdminCommand {
    @Override
    MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.listMembers(ListRequest.getDefaultInstance());
    }

    MembersCommand(CliContext context) {
        super(context);
    }

    @Override
    String table(MessageOrBuilder response) {
        Table t = new Table("MEMBER", "TYPE", "NETWORK", "TRUST DOMAIN", "JOINED");
        for (Member m : ((MemberList) response).getMembersList()) {
            t.row(m.getName(), m.getType(), m.getNetwork(), m.getTrustDomain(), m.getIdentitiesCount());
        }
        return t.render();
    }
}
