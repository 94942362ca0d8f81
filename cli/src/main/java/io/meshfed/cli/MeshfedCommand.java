package io.meshfed.cli;

import io.meshfed.cli.trust.TrustCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code meshfed} command: one subcommand per area. */
@Command(name = "meshfed",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Federates Kubernetes clusters, VM fleets and Consul datacenters into one service mesh.",
        subcommands = {TrustCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done (verify: valid)", "1:failed (verify: not valid); one line on stderr says why",
            "2:usage error"})
public final class MeshfedCommand {
    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "Show stack traces for errors (never shows secrets).")
    boolean debug;
}
