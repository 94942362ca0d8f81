package io.meshfed.controller.store.postgres;

import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreBackend;
import io.meshfed.controller.store.StoreSettings;
import java.util.Set;

/** {@code postgres://USER@HOST[:PORT]/DATABASE[?PARAMS]}: the shared store of controller replicas (HA). */
public final class PostgresBackend implements StoreBackend {
    @Override
    public Set<String> schemes() {
        return Set.of("postgres", "postgresql");
    }

    @Override
    public String form() {
        return "postgres://USER@HOST[:PORT]/DATABASE";
    }

    @Override
    public void check(String location, StoreSettings.Password password) {
        PostgresLocation.parse(location);
    }

    @Override
    public boolean takesPassword() {
        return true;
    }

    @Override
    public Store open(String location, StoreSettings.Password password) {
        return PostgresStore.open(PostgresLocation.parse(location), password.read());
    }
}
