package io.meshfed.controller.store.sqlite;

import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreBackend;
import io.meshfed.controller.store.StoreSettings;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Set;

/** {@code sqlite:PATH}: the embedded store in one file (a relative path is taken from the working directory). */
public final class SqliteBackend implements StoreBackend {
    @Override
    public Set<String> schemes() {
        return Set.of("sqlite");
    }

    @Override
    public String form() {
        return "sqlite:PATH";
    }

    @Override
    public void check(String location, StoreSettings.Password password) {
        path(location);
        if (password.given()) {
            throw new IllegalArgumentException("a SQLite store takes no password, yet one is given in "
                    + password.source());
        }
    }

    @Override
    public boolean takesPassword() {
        return false;
    }

    @Override
    public Store openExisting(String location, StoreSettings.Password password) {
        Path file = path(location);
        if (!java.nio.file.Files.isRegularFile(file)) {
            throw new io.meshfed.controller.store.StoreException("there is no SQLite store at " + file
                    + " (the controller keeps it in DATA-DIR/state.db)", null);
        }
        return open(location, password);
    }

    @Override
    public Store open(String location, StoreSettings.Password password) {
        check(location, password);
        return SqliteStore.open(path(location));
    }

    private static Path path(String location) {
        String path = location.substring(location.indexOf(':') + 1);
        if (path.isBlank()) {
            throw new IllegalArgumentException("sqlite: names no file; write sqlite:PATH, e.g. sqlite:/var/lib/meshfed/state.db");
        }
        try {
            return Path.of(path);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("'" + path + "' is not a path: " + e.getReason());
        }
    }
}
