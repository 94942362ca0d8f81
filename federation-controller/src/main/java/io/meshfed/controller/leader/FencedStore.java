package io.meshfed.controller.leader;

import io.meshfed.controller.store.Change;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The store as leader-only components see it: every transaction first checks, inside itself, that this replica
 * still holds the leader lease at the epoch it won; otherwise it is refused with {@link NotLeaderException} and
 * writes nothing. The check and the writes commit together (the store serialises writers), so a replica that was
 * paused past its lease and resumes cannot write over its successor's work. Reads pass straight through.
 */
final class FencedStore implements Store {
    private final Store store;
    private final LeaderElection election;

    FencedStore(Store store, LeaderElection election) {
        this.store = store;
        this.election = election;
    }

    @Override
    public <T> T transact(TransactionBody<T> body) {
        return store.transact(tx -> {
            election.checkHeld(tx);
            return body.run(tx);
        });
    }

    @Override
    public long revision() {
        return store.revision();
    }

    @Override
    public Optional<Resource> get(String kind, String name) {
        return store.get(kind, name);
    }

    @Override
    public List<Resource> list(String kind) {
        return store.list(kind);
    }

    @Override
    public List<String> kinds() {
        return store.kinds();
    }

    @Override
    public List<Change> changesSince(long revision, int limit) {
        return store.changesSince(revision, limit);
    }

    @Override
    public Watch watch(long fromRevision, Consumer<Change> listener) {
        return store.watch(fromRevision, listener);
    }

    @Override
    public boolean exclusive() {
        return store.exclusive();
    }

    /** The components do not own the store: closing their view of it leaves it open. */
    @Override
    public void close() {
    }
}
