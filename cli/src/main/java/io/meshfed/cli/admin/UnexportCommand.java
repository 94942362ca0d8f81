package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ExportState;
import io.meshfed.cli.context.CliContext;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code meshfed unexport SERVICE.NAMESPACE --to MEMBER|--all}. */
@Command(name = "unexport", mixinStandardHelpOptions = true,
        description = "Withdraw an export from members (--to) or the export to all (--all).")
public final class UnexportCommand extends AdminCommand {
    @Parameters(paramLabel = "SERVICE.NAMESPACE")
    String service;

    @ArgGroup(exclusive = true, multiplicity = "1")
    ExportCommand.Targets targets;

    UnexportCommand(CliContext context) {
        super(context);
    }

    @Override
    MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.unexport(ExportCommand.request(service, targets));
    }

    @Override
    String table(MessageOrBuilder response) {
        return ExportCommand.render((ExportState) response);
    }
}
