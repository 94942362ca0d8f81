package io.meshfed.cli;

import io.meshfed.cli.admin.ExportCommand;
import io.meshfed.cli.admin.MemberCommand;
import io.meshfed.cli.admin.MembersCommand;
import io.meshfed.cli.admin.NetworkCommand;
import io.meshfed.cli.admin.ServicesCommand;
import io.meshfed.cli.admin.StatusCommand;
import io.meshfed.cli.admin.TokenCommand;
import io.meshfed.cli.admin.UnexportCommand;
import io.meshfed.cli.trust.TrustCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code meshfed} command: one subcommand per area. */
@Command(name = "meshfed",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Federates Kubernetes clusters, VM fleets and Consul datacenters into one service mesh.",
        subcommands = {TrustCommand.class, NetworkCommand.class, MemberCommand.class, TokenCommand.class,
            ExportCommand.class, UnexportCommand.class, MembersCommand.class, ServicesCommand.class,
            StatusCommand.class, io.meshfed.cli.admin.RouteCommand.class, io.meshfed.cli.cluster.ClusterCommand.class,
            io.meshfed.cli.consul.ConsulCommand.class,
            io.meshfed.cli.quickstart.QuickstartCommand.class, io.meshfed.cli.admin.IdentityCommand.class,
            io.meshfed.cli.admin.AuthzCommand.class},
        footer = {"", "'meshfed init' and 'meshfed controller' run the controller's own artifact; see"
            + " 'meshfed controller --help'."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done (verify: valid)", "1:failed (verify: not valid); one line on stderr says why",
            "2:usage error"})
public final class MeshfedCommand {
    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "Show stack traces for errors (never shows secrets).")
    boolean debug;
}
