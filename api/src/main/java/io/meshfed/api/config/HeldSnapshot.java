package io.meshfed.api.config;

import io.meshfed.api.v1.ConfigSnapshot;
import java.util.Objects;

/**
 * The whole snapshot a subscriber holds, and what makes applying the next delta cheap: where each of its services'
 * messages lies in its bytes ({@link SnapshotBytes}), so that checking a delta's version serialises only the services
 * the delta changed. Immutable; {@link #apply} gives the next one.
 */
public final class HeldSnapshot {
    private final ConfigSnapshot snapshot;
    /** Null until a delta is applied to it (a whole snapshot is never serialised unless a delta needs it). */
    private final SnapshotBytes.Layout layout;

    private HeldSnapshot(ConfigSnapshot snapshot, SnapshotBytes.Layout layout) {
        this.snapshot = snapshot;
        this.layout = layout;
    }

    /** Holds a whole snapshot (received whole, or read from a cache). */
    public static HeldSnapshot of(ConfigSnapshot whole) {
        return new HeldSnapshot(Objects.requireNonNull(whole, "whole"), null);
    }

    public ConfigSnapshot snapshot() {
        return snapshot;
    }

    /**
     * What holding {@code received} gives: itself when it is whole, else this snapshot with the delta applied, as
     * {@link ConfigDeltas#apply} gives it.
     *
     * @param held what the subscriber holds (null: nothing)
     * @throws ConfigDeltas.Mismatch as {@link ConfigDeltas#apply}
     */
    public static HeldSnapshot apply(HeldSnapshot held, ConfigSnapshot received) throws ConfigDeltas.Mismatch {
        if (!received.hasDelta()) {
            return new HeldSnapshot(received, null);
        }
        SnapshotBytes.Layout layout = held == null ? null
                : held.layout != null ? held.layout : SnapshotBytes.of(held.snapshot, null, 0).layout();
        ConfigDeltas.Applied applied = ConfigDeltas.applied(held == null ? null : held.snapshot, layout, received);
        return new HeldSnapshot(applied.snapshot(), applied.layout());
    }
}
