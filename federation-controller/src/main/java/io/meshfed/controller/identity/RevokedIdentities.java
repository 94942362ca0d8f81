package io.meshfed.controller.identity;

import io.meshfed.controller.model.IdentityRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Change;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.trust.SpiffeId;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The SPIFFE IDs an admin revoked, kept in memory and followed from the store (so every replica learns of a
 * revocation within milliseconds), for the per-call check: a revoked identity's SVID stays cryptographically valid
 * until it expires, and this is what refuses it. Listeners hear of each new revocation after the set has it.
 */
public final class RevokedIdentities implements AutoCloseable {
    private final Map<String, Long> revokedAtMillis = new ConcurrentHashMap<>();
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
    private final Store.Watch watch;

    public RevokedIdentities(Store store) {
        long revision = store.revision();
        for (IdentityRecord r : Records.list(store, Kind.IDENTITY, IdentityRecord.class)) {
            if (r.revoked()) {
                revokedAtMillis.put(r.spiffeId(), r.revokedAtMillis());
            }
        }
        // Changes after `revision` are replayed; those already listed change nothing.
        this.watch = store.watch(revision, this::apply);
    }

    private void apply(Change change) {
        if (!change.kind().equals(Kind.IDENTITY.storeName())) {
            return;
        }
        if (change.op() == Change.Op.DELETE) {
            revokedAtMillis.remove(change.name());
            return;
        }
        IdentityRecord record = Records.fromJson(new Resource(change.kind(), change.name(), change.json(),
                change.revision(), change.revision()), IdentityRecord.class);
        if (!record.revoked()) {
            revokedAtMillis.remove(change.name());
        } else if (revokedAtMillis.put(change.name(), record.revokedAtMillis()) == null) {
            listeners.forEach(l -> l.accept(change.name()));
        }
    }

    /** Tells {@code listener} the SPIFFE ID of each identity revoked from now on; it runs on the store's thread. */
    public void onRevoked(Consumer<String> listener) {
        listeners.add(listener);
    }

    public boolean isRevoked(String spiffeId) {
        return revokedAtMillis.containsKey(spiffeId);
    }

    /** Why {@code id} is refused, naming it and when it was revoked, when it was (PERMISSION_DENIED to callers). */
    public Optional<String> refusal(SpiffeId id) {
        Long at = revokedAtMillis.get(id.toString());
        if (at == null) {
            return Optional.empty();
        }
        return Optional.of(id + " was revoked at " + Instant.ofEpochMilli(at)
                + "; its SVID is no longer accepted. Join again under another name with a new token");
    }

    @Override
    public void close() {
        watch.close();
    }
}
