package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ExportState;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.Table;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshfed export SERVICE.NAMESPACE --to MEMBER|--all}. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Make a service (the same name and namespace in every member) visible to members.",
            "Nothing is visible across members until it is exported."})
public final class ExportCommand extends AdminCommand {
    @Parameters(paramLabel = "SERVICE.NAMESPACE")
    String service;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Targets targets;

    /** --to (repeatable) or --all. */
    static final class Targets {
        @Option(names = "--to", paramLabel = "MEMBER", description = "A member to export to; repeatable.")
        List<String> members;

        @Option(names = "--all", description = "Every member, present and future.")
        boolean all;
    }

    static ExportRequest request(String service, Targets targets) {
        String[] parts = serviceAndNamespace(service);
        return ExportRequest.newBuilder().setService(parts[0]).setNamespace(parts[1])
                .addAllToMembers(targets.members == null ? List.of() : targets.members).setToAll(targets.all).build();
    }

    ExportCommand(CliContext context) {
        super(context);
    }

    @Override
    MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.export(request(service, targets));
    }

    @Override
    String table(MessageOrBuilder response) {
        return render((ExportState) response);
    }

    static String render(ExportState e) {
        String to = e.getToAll() ? "all members" : e.getToMembersCount() == 0 ? "nobody" : String.join(", ",
                e.getToMembersList());
        return new Table("SERVICE", "EXPORTED TO").row(e.getService() + "." + e.getNamespace(), to).render();
    }
}
