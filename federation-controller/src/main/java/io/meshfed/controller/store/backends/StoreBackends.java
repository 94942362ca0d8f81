package io.meshfed.controller.store.backends;

import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreBackend;
import io.meshfed.controller.store.StoreSettings;
import io.meshfed.controller.store.postgres.PostgresBackend;
import io.meshfed.controller.store.sqlite.SqliteBackend;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The store backends by the scheme of their locations: the one place a location picks its implementation. */
public final class StoreBackends {
    private final Map<String, StoreBackend> bySchemes = new LinkedHashMap<>();
    private final List<StoreBackend> backends;

    public StoreBackends(List<StoreBackend> backends) {
        this.backends = List.copyOf(backends);
        for (StoreBackend b : this.backends) {
            for (String scheme : b.schemes()) {
                if (bySchemes.putIfAbsent(scheme, b) != null) {
                    throw new IllegalArgumentException("two store backends for the scheme " + scheme);
                }
            }
        }
    }

    /** SQLite (embedded, the default) and PostgreSQL (HA). */
    public static StoreBackends standard() {
        return new StoreBackends(List.of(new SqliteBackend(), new PostgresBackend()));
    }

    /**
     * The backend of {@code location}.
     *
     * @throws IllegalArgumentException for a location no backend serves, naming the forms that are known
     */
    public StoreBackend of(String location) {
        int colon = location.indexOf(':');
        StoreBackend backend = colon <= 0 ? null : bySchemes.get(location.substring(0, colon).toLowerCase(Locale.ROOT));
        if (backend == null) {
            throw new IllegalArgumentException("'" + printable(location) + "' is not a store location; known: "
                    + String.join(", ", backends.stream().map(StoreBackend::form).toList()));
        }
        return backend;
    }

    /** Checks the settings' location and password source without connecting. */
    public void check(StoreSettings settings) {
        of(settings.location()).check(settings.location(), settings.password());
    }

    /** Opens a store that must exist already (see {@link StoreBackend#openExisting}). */
    public Store openExisting(StoreSettings settings) {
        return of(settings.location()).openExisting(settings.location(), settings.password());
    }

    public Store open(StoreSettings settings) {
        return of(settings.location()).open(settings.location(), settings.password());
    }

    /** Up to the first '@': a mistyped location might hold a password after its user. */
    private static String printable(String location) {
        int at = location.indexOf('@');
        return at < 0 ? location : location.substring(0, location.indexOf(':') + 1) + "…@" + location.substring(at + 1);
    }
}
