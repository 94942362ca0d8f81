package io.meshfed.cli.cluster;

import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.internal.KubeConfigUtils;
import io.meshfed.cli.context.CliException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * The operator's kubeconfig, read once by the CLI and never sent anywhere: a missing file, a file that is not a
 * kubeconfig, an unknown context or a context without an API server is one line naming the file.
 */
final class OperatorKubeconfig {
    private OperatorKubeconfig() {}

    static Config load(Path file, String context) {
        if (!Files.isRegularFile(file)) {
            throw new CliException("kubeconfig " + file + ": no such file");
        }
        io.fabric8.kubernetes.api.model.Config parsed;
        try {
            parsed = KubeConfigUtils.parseConfig(file.toFile());
        } catch (RuntimeException e) {
            throw new CliException("kubeconfig " + file + " is not a valid kubeconfig: " + firstLine(e));
        }
        if (parsed == null || parsed.getContexts() == null || parsed.getContexts().isEmpty()) {
            throw new CliException("kubeconfig " + file + " has no contexts");
        }
        String chosen = context != null ? context : parsed.getCurrentContext();
        if (chosen == null || chosen.isBlank()) {
            throw new CliException("kubeconfig " + file + " has no current-context; choose one with --context ("
                    + names(parsed) + ")");
        }
        if (parsed.getContexts().stream().noneMatch(c -> chosen.equals(c.getName()))) {
            throw new CliException("kubeconfig " + file + " has no context '" + chosen + "' (it has " + names(parsed)
                    + ")");
        }
        Config config;
        try {
            config = Config.fromKubeconfig(chosen, file.toFile());
        } catch (RuntimeException e) {
            throw new CliException("kubeconfig " + file + ", context " + chosen + ": " + firstLine(e));
        }
        if (config.getMasterUrl() == null || config.getMasterUrl().isBlank()) {
            throw new CliException("kubeconfig " + file + ", context " + chosen + " names no API server");
        }
        config.setCurrentContext(parsed.getContexts().stream().filter(c -> chosen.equals(c.getName())).findFirst()
                .orElseThrow());
        config.setRequestTimeout(15_000);
        config.setConnectionTimeout(5_000);
        config.setRequestRetryBackoffLimit(0);
        return config;
    }

    private static String names(io.fabric8.kubernetes.api.model.Config parsed) {
        return parsed.getContexts().stream().map(NamedContext::getName).collect(Collectors.joining(", "));
    }

    static String firstLine(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}
