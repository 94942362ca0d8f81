package io.meshfed.cli.trust;

import picocli.CommandLine.Command;

/** {@code meshfed trust ca}. */
@Command(name = "ca", mixinStandardHelpOptions = true, description = "Manage certificate authorities.",
        subcommands = {CaInitCommand.class})
public final class CaCommand {
}
