package io.meshfed.cli.quickstart;

import io.meshfed.cli.context.CliException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where the runnable jars are: {@code $MESHFED_ROOT} (set by the {@code ./meshfed} launcher), else the source tree
 * this CLI jar was built in ({@code <root>/cli/target/meshfed-cli.jar}).
 */
record Artifacts(Path root, Path java) {
    static final String CONTROLLER = "federation-controller/target/meshfed-controller.jar";
    static final String GATEWAY = "east-west-gateway/target/meshfed-gateway.jar";
    static final String AGENT = "vm-agent/target/meshfed-agent.jar";
    static final String SAMPLE = "sample-service/target/meshfed-sample.jar";
    static final String EDGE = "edge-gateway/target/meshfed-edge.jar";

    static Artifacts locate(Map<String, String> env) {
        Path root;
        String fromEnv = env.get("MESHFED_ROOT");
        if (fromEnv != null && !fromEnv.isBlank()) {
            root = Path.of(fromEnv);
        } else {
            try {
                Path jar = Path.of(Artifacts.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                root = jar.getParent().getParent().getParent(); // <root>/cli/target/<jar or classes>
            } catch (URISyntaxException | RuntimeException e) {
                throw new CliException("cannot tell where meshfed is installed; set MESHFED_ROOT to the repository root");
            }
        }
        for (String jar : List.of(CONTROLLER, GATEWAY, AGENT, SAMPLE, EDGE)) {
            if (!Files.isRegularFile(root.resolve(jar))) {
                throw new CliException(root.resolve(jar) + " is missing: run the quickstart through ./meshfed, which"
                        + " builds it (or: mvn -DskipTests package)");
            }
        }
        Path java = Path.of(ProcessHandle.current().info().command().orElse("java"));
        return new Artifacts(root, java);
    }

    Path jar(String relative) {
        return root.resolve(relative);
    }
}
