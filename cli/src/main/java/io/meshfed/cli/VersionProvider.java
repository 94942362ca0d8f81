package io.meshfed.cli;

import picocli.CommandLine.IVersionProvider;

/** Version from the jar manifest, or "development" when run from classes. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = MeshfedCommand.class.getPackage().getImplementationVersion();
        return new String[] {"meshfed " + (v == null ? "development build" : v)};
    }
}
