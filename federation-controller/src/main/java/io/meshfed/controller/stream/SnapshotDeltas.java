package io.meshfed.controller.stream;

import io.meshfed.api.config.ConfigDeltas;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deltas the config streams send, made once per pair of versions on the store-read worker (many subscribers
 * share a snapshot, so they share its deltas too) and kept, the latest {@link #MAX_DELTAS} ({@link #MAX_DELTA_BYTES}
 * at most), for the subscribers still to be sent one. Also the snapshots recently sent ({@link #MAX_HISTORY},
 * {@link #MAX_HISTORY_BYTES}): a
 * subscriber that reconnects holding one of them gets a delta from it, not the whole snapshot. Confined to the
 * streams' loop, but for the computation.
 */
final class SnapshotDeltas {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotDeltas.class);
    static final int MAX_DELTAS = 512;
    static final long MAX_DELTA_BYTES = 32L << 20;
    static final int MAX_HISTORY = 256;
    static final long MAX_HISTORY_BYTES = 32L << 20;

    /** A delta, or none when it would not be smaller than the whole snapshot. */
    private static final Optional<PreparedSnapshot> NOT_SMALLER = Optional.empty();

    private final Executor worker;
    private final Consumer<Runnable> loop;
    private final Runnable made;
    private final LinkedHashMap<String, Optional<PreparedSnapshot>> deltas = new LinkedHashMap<>(16, 0.75f, true);
    private long deltaBytes;
    private final Set<String> computing = new HashSet<>();
    private final LinkedHashMap<String, PreparedSnapshot> history = new LinkedHashMap<>(16, 0.75f, true);
    private long historyBytes;

    /**
     * @param worker where deltas are computed
     * @param loop   hands a task back to the streams' loop
     * @param made   runs on the loop each time a delta has been made (the subscribers waiting for it are sent it)
     */
    SnapshotDeltas(Executor worker, Consumer<Runnable> loop, Runnable made) {
        this.worker = worker;
        this.loop = loop;
        this.made = made;
    }

    private void keep(String key, Optional<PreparedSnapshot> delta) {
        Optional<PreparedSnapshot> before = deltas.put(key, delta);
        deltaBytes += size(delta) - (before == null ? 0 : size(before));
        var it = deltas.entrySet().iterator();
        while ((deltas.size() > MAX_DELTAS || deltaBytes > MAX_DELTA_BYTES) && it.hasNext()) {
            Map.Entry<String, Optional<PreparedSnapshot>> eldest = it.next();
            if (eldest.getKey().equals(key)) {
                continue; // never the one just made: its subscribers are still to be sent it
            }
            deltaBytes -= size(eldest.getValue());
            it.remove();
        }
    }

    private static long size(Optional<PreparedSnapshot> delta) {
        return delta.map(d -> (long) d.bytes().length).orElse(0L);
    }

    /**
     * Remembers a snapshot that the subscribers of {@code key} (member, network, audience) are sent, so that one
     * reconnecting with it can get deltas.
     */
    void remember(String key, PreparedSnapshot snapshot) {
        if (history.putIfAbsent(key + "\u0000" + snapshot.version(), snapshot) == null) {
            historyBytes += snapshot.bytes().length;
        }
        var it = history.entrySet().iterator();
        while ((history.size() > MAX_HISTORY || historyBytes > MAX_HISTORY_BYTES) && it.hasNext()) {
            historyBytes -= it.next().getValue().bytes().length;
            it.remove();
        }
    }

    /**
     * A recently sent snapshot of this version for the subscribers of {@code key}, if it is still remembered; never
     * one of another key, whose delta would tell what that key's snapshot holds.
     */
    Optional<PreparedSnapshot> remembered(String key, String version) {
        return Optional.ofNullable(history.get(key + "\u0000" + version));
    }

    /**
     * What to send a subscriber that holds {@code base} so that it holds {@code target}: the delta, or
     * {@code target} itself when the delta would not be smaller; null while the delta is being made (the
     * {@code made} callback runs once it is).
     */
    PreparedSnapshot message(PreparedSnapshot base, PreparedSnapshot target) {
        String key = base.version() + ">" + target.version();
        Optional<PreparedSnapshot> known = deltas.get(key);
        if (known != null) {
            return known.orElse(target);
        }
        if (computing.add(key)) {
            worker.execute(() -> {
                Optional<PreparedSnapshot> result = NOT_SMALLER;
                try {
                    PreparedSnapshot delta = PreparedSnapshot.of(ConfigDeltas.between(base.content(),
                            target.content()));
                    // Not smaller, or too large to keep (it would be evicted as it is stored): whole.
                    result = delta.bytes().length < target.bytes().length
                            && delta.bytes().length <= MAX_DELTA_BYTES / 4 ? Optional.of(delta) : NOT_SMALLER;
                } catch (Throwable e) { // whatever happens, the loop hears of it and sends whole
                    LOG.error("cannot make the delta from config version {} to {}; sending it whole: {}",
                            base.version(), target.version(), e.toString());
                } finally {
                    Optional<PreparedSnapshot> done = result;
                    loop.accept(() -> {
                        computing.remove(key);
                        keep(key, done);
                        made.run();
                    });
                }
            });
        }
        return null;
    }
}
