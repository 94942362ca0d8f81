package io.meshfed.cli.trust;

import picocli.CommandLine.Command;

/** {@code meshfed trust bundle}. */
@Command(name = "bundle", mixinStandardHelpOptions = true, description = "Inspect and convert trust bundles.",
        subcommands = {BundleShowCommand.class, BundleConvertCommand.class})
public final class BundleCommand {
}
