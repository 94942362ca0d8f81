package io.meshfed.cli.trust;

import picocli.CommandLine.Command;

/** {@code meshfed trust}: certificate authorities, SVIDs and trust bundles. */
@Command(name = "trust", mixinStandardHelpOptions = true,
        description = "Certificate authorities, SVIDs and trust bundles.",
        subcommands = {CaCommand.class, IssueCommand.class, VerifyCommand.class, BundleCommand.class,
            io.meshfed.cli.admin.RotationCommands.Rotate.class, io.meshfed.cli.admin.RotationCommands.Rotation.class,
            io.meshfed.cli.admin.FederationCommands.Federate.class,
            io.meshfed.cli.admin.FederationCommands.Federation.class})
public final class TrustCommand {
}
