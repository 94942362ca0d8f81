package io.meshfed.cli.admin;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshfed.cli.context.CliException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * {@code meshfed route apply FILE}: any file content reads to routes or fails with a {@link CliException} naming
 * the file and the place in it, within 1 s.
 */
class RouteFileFuzzTest {
    private static Path file;

    /** The file, and one valid read to load the YAML classes, outside the 1 s every input gets. */
    @BeforeAll
    static void warmUp() throws Exception {
        file = Files.createTempFile("routes", ".yaml");
        Files.writeString(file, "routes: [{id: a, uri: \"lb://a.b\", predicates: [Path=/a/**]}]\n");
        RouteFile.read(file);
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void read(byte[] input) throws Exception {
        Files.write(file, input);
        try {
            RouteFile.read(file);
        } catch (CliException refused) {
            // documented
        }
    }
}
