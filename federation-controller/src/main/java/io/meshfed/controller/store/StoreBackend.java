package io.meshfed.controller.store;

/**
 * A kind of database the controller keeps its state in, known by the scheme of its location ({@code sqlite:PATH},
 * {@code postgres://…}). Implementations are registered in {@link StoreBackends}; nothing else chooses among them.
 */
public interface StoreBackend {
    /** The schemes of the locations it serves, e.g. {@code sqlite}. */
    java.util.Set<String> schemes();

    /** How users write its locations, for error messages: e.g. {@code sqlite:PATH}. */
    String form();

    /**
     * Checks a location of this backend without connecting, when the configuration is read.
     *
     * @throws IllegalArgumentException naming what is wrong (never echoing a secret)
     */
    void check(String location, StoreSettings.Password password);

    /** Whether its logins take a password (SQLite's do not). */
    boolean takesPassword();

    /**
     * Opens a store that must exist already (a migration's source): one that is not there is refused, not created.
     *
     * @throws StoreException naming the location when it is not there or cannot be opened
     */
    default Store openExisting(String location, StoreSettings.Password password) {
        return open(location, password);
    }

    /**
     * Opens the store at {@code location}, creating or migrating its schema.
     *
     * @throws StoreException naming the location when it cannot
     */
    Store open(String location, StoreSettings.Password password);
}
