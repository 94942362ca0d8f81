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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code meshfed export SERVICE.NAMESPACE --to MEMBER|TRUST-DOMAIN|--all [--failover NET,...]}. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Make a service (the same name and namespace in every member) visible to members.",
            "Nothing is visible across members until it is exported.",
            "--failover sets the order in which remote networks are tried for it (the rest by locality); alone,",
            "it changes only the order of an existing export."})
public final class ExportCommand extends AdminCommand {
    @Parameters(paramLabel = "SERVICE.NAMESPACE")
    String service;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Targets targets;

    @Option(names = "--failover", paramLabel = "NETWORK", split = ",",
            description = "Remote networks to try first for this service, in order (comma-separated).")
    List<String> failover;

    @Spec
    CommandSpec spec;

    /** --to (repeatable) or --all. */
    static final class Targets {
        @Option(names = "--to", paramLabel = "MEMBER|TRUST-DOMAIN", description = "A member to export to, or an"
                + " outside trust domain this federation federates with (a name with dots, e.g. spire.example: its"
                + " identities may call the service); repeatable.")
        List<String> members;

        @Option(names = "--all", description = "Every member, present and future.")
        boolean all;
    }

    static ExportRequest request(String service, Targets targets) {
        String[] parts = serviceAndNamespace(service);
        List<String> to = targets.members == null ? List.of() : targets.members;
        // Member names are DNS labels; a name with a dot is a trust domain.
        return ExportRequest.newBuilder().setService(parts[0]).setNamespace(parts[1])
                .addAllToMembers(to.stream().filter(t -> !t.contains(".")).toList())
                .addAllToTrustDomains(to.stream().filter(t -> t.contains(".")).toList())
                .setToAll(targets.all).build();
    }

    private ExportRequest request() {
        if (targets == null && (failover == null || failover.isEmpty())) {
            throw new ParameterException(spec.commandLine(), "Missing required argument: say whom to export to"
                    + " (--to MEMBER|TRUST-DOMAIN or --all), or give --failover NETWORK,... to change an export's"
                    + " failover order");
        }
        ExportRequest.Builder r = (targets == null ? request(service, new Targets()) : request(service, targets))
                .toBuilder();
        return r.addAllFailoverNetworks(failover == null ? List.of() : failover).build();
    }

    ExportCommand(CliContext context) {
        super(context);
    }

    @Override
    MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.export(request());
    }

    @Override
    String table(MessageOrBuilder response) {
        return render((ExportState) response);
    }

    static String render(ExportState e) {
        List<String> whom = new java.util.ArrayList<>(e.getToAll() ? List.of("all members") : e.getToMembersList());
        whom.addAll(e.getToTrustDomainsList());
        String to = whom.isEmpty() ? "nobody" : String.join(", ", whom);
        if (e.getFailoverNetworksCount() == 0) {
            return new Table("SERVICE", "EXPORTED TO").row(e.getService() + "." + e.getNamespace(), to).render();
        }
        return new Table("SERVICE", "EXPORTED TO", "FAILOVER").row(e.getService() + "." + e.getNamespace(), to,
                String.join(", ", e.getFailoverNetworksList())).render();
    }
}
