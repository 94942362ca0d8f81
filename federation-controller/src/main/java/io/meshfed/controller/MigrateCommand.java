package io.meshfed.controller;

import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreMigration;
import io.meshfed.controller.store.StoreSettings;
import io.meshfed.controller.store.backends.StoreBackends;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshfed controller migrate --from sqlite:PATH --to postgres://…}: copies a federation's state into another
 * store. The controller must be stopped (its SQLite store is refused while it runs); the data directory, with the
 * CAs and the key encryption key, stays where it is and the controller is started on it with {@code --store}.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Copy the federation's state from one store into another, e.g. from the embedded SQLite file",
            "to PostgreSQL for HA. Stop the controller first; the target must be empty. A PostgreSQL password comes",
            "from --from-password-file/--to-password-file, or from MESHFED_STORE_PASSWORD for the one PostgreSQL side."})
final class MigrateCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "LOCATION",
            description = "The store to copy, e.g. sqlite:/var/lib/meshfed/state.db.")
    String from;

    @Option(names = "--to", required = true, paramLabel = "LOCATION",
            description = "The empty store to copy into, e.g. postgres://meshfed@db:5432/meshfed.")
    String to;

    @Option(names = "--from-password-file", paramLabel = "FILE", description = "The source database's password.")
    Path fromPasswordFile;

    @Option(names = "--to-password-file", paramLabel = "FILE", description = "The target database's password.")
    Path toPasswordFile;

    private final Map<String, String> environment;

    MigrateCommand() {
        this(System.getenv());
    }

    MigrateCommand(Map<String, String> environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        StoreBackends backends = StoreBackends.standard();
        StoreSettings source = settings(backends, "--from", from, fromPasswordFile);
        StoreSettings target = settings(backends, "--to", to, toPasswordFile);
        if (source.location().equals(target.location())) {
            throw new IllegalArgumentException("--from and --to name the same store");
        }
        boolean bothTakePasswords = backends.of(from).takesPassword() && backends.of(to).takesPassword();
        if (bothTakePasswords && fromPasswordFile == null && toPasswordFile == null
                && environment.get(ControllerConfig.STORE_PASSWORD_VARIABLE) != null) {
            throw new IllegalArgumentException("both stores are PostgreSQL: give each password in its own file"
                    + " (--from-password-file, --to-password-file) rather than " + ControllerConfig.STORE_PASSWORD_VARIABLE);
        }
        try (Store in = backends.openExisting(source)) {
            long revision = in.revision();
            if (revision == 0) {
                throw new IllegalArgumentException("the store " + source.location() + " is empty: nothing to migrate");
            }
            out.printf("Migrating %s (revision %d) into %s%n", source.location(), revision, target.location());
            out.flush();
            try (Store into = backends.open(target)) {
                StoreMigration.Copied copied = StoreMigration.copy(in, into, line -> {
                    out.println("  " + line);
                    out.flush();
                });
                out.printf("Done: %d resources of %d kinds, read back and compared. Start the controller on the same"
                        + " data directory (it keeps the CAs and the key encryption key) with --store %s%n",
                        copied.total(), copied.byKind().size(), target.location());
            }
        }
        return 0;
    }

    private StoreSettings settings(StoreBackends backends, String flag, String location, Path passwordFile) {
        StoreSettings.Password password = StoreSettings.Password.NONE;
        try {
            if (passwordFile != null) {
                password = StoreSettings.Password.fromFile(passwordFile);
            } else if (backends.of(location).takesPassword()
                    && environment.get(ControllerConfig.STORE_PASSWORD_VARIABLE) != null) {
                password = StoreSettings.Password.fromEnvironment(ControllerConfig.STORE_PASSWORD_VARIABLE,
                        environment.get(ControllerConfig.STORE_PASSWORD_VARIABLE));
            }
            StoreSettings settings = new StoreSettings(location, password);
            backends.check(settings);
            return settings;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage());
        }
    }
}
