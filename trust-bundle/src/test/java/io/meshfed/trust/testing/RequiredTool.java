package io.meshfed.trust.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * An outside tool a test runs (kubectl, promtool, h2load): on the PATH, or the test is skipped where it is not
 * installed, except in CI ({@code CI} set), which installs it: there a missing tool fails the test.
 */
public final class RequiredTool {
    private RequiredTool() {}

    /** Skips (or, in CI, fails) unless {@code command} is on the PATH; {@code debianPackage} installs it. */
    public static void require(String command, String debianPackage) {
        boolean installed = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, command)));
        if (!installed && System.getenv("CI") != null) {
            throw new AssertionError(command + " is not installed: .ci/run installs Debian's " + debianPackage);
        }
        Assumptions.assumeTrue(installed, command + " is not installed (apt-get install " + debianPackage
                + "); the test runs where it is, as in CI");
    }
}
