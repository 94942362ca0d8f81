package io.meshfed.controller.store;

import java.util.List;
import java.util.function.Consumer;

/**
 * Revisioned resources with a change log. Thread-safe. A committed transaction is durable before
 * {@link #transact} returns (a crash afterwards loses nothing). Watchers are told of every change, in revision
 * order, after it committed.
 */
public interface Store extends StoreReader, AutoCloseable {
    /** The body of a transaction; it may be run once only. */
    @FunctionalInterface
    interface TransactionBody<T> {
        T run(StoreTransaction tx);
    }

    /** A registered watcher; close it to stop being told. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Runs {@code body} as one transaction: all its writes commit together or none does.
     *
     * @throws ConflictException from a compare-and-set inside, with nothing written
     */
    <T> T transact(TransactionBody<T> body);

    default Resource put(String kind, String name, String json, long expectedRevision) {
        return transact(tx -> tx.put(kind, name, json, expectedRevision));
    }

    default boolean delete(String kind, String name, long expectedRevision) {
        return transact(tx -> tx.delete(kind, name, expectedRevision));
    }

    /**
     * Whether no other process can have this store open while this handle is (SQLite's file lock): then no other
     * replica can hold a lease in it, whatever the store says.
     */
    default boolean exclusive() {
        return false;
    }

    /** The kinds that have at least one resource, in name order (a migration copies each). */
    List<String> kinds();

    /**
     * The changes after {@code revision}, oldest first, at most {@code limit}.
     *
     * @throws CompactedException when changes after {@code revision} were already compacted away: relist instead
     */
    List<Change> changesSince(long revision, int limit);

    /**
     * Tells {@code listener} of every change after {@code fromRevision}: first those already in the log, then each
     * new one as it commits, with no gap and no repeat. Listeners run on the store's notification thread, one at a
     * time, and must not block.
     */
    Watch watch(long fromRevision, Consumer<Change> listener);

    @Override
    void close();
}
