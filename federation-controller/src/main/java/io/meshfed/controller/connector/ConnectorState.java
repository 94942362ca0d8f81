package io.meshfed.controller.connector;

import java.util.Locale;

/**
 * Where a member connector stands, the same for every member kind. {@code CONNECTING}: not read yet since it
 * started; {@code SYNCED}: the member's catalog is read and written; {@code STALE}: the member is unreachable and
 * what it exported stays, as last read, for the grace period; {@code WITHDRAWN}: the grace period ended and its
 * instances are marked unhealthy until the member is back. Shown by its {@link #label()}.
 */
public enum ConnectorState {
    CONNECTING, SYNCED, STALE, WITHDRAWN;

    /** The state as status and the CLI show it: {@code connecting}, {@code synced}, {@code stale}, {@code withdrawn}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the member is unreachable after it was read once. */
    public boolean unreachable() {
        return this == STALE || this == WITHDRAWN;
    }
}
