package io.meshfed.controller.store;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Copies a federation's state from one store into another (SQLite to PostgreSQL for HA, or back): every resource of
 * every kind, in the order they were created, in one transaction of the target, so that a crash or a refusal leaves
 * the target as empty as it was. The target must be empty. Revisions start again from 1 in the target (nothing
 * outside the store keeps them: config versions are content hashes); the change log starts there too.
 */
public final class StoreMigration {
    private StoreMigration() {}

    /** What was copied: resources per kind, and the source's revision at the copy. */
    public record Copied(Map<String, Integer> byKind, long sourceRevision, long targetRevision) {
        public int total() {
            return byKind.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /**
     * Copies {@code from} into {@code to} and reads the copy back to compare it.
     *
     * @param progress told one line per kind as it is read, and one when the copy is committed
     * @throws IllegalStateException when the target is not empty, or the copy read back differs
     */
    public static Copied copy(Store from, Store to, Consumer<String> progress) {
        requireNonNull(from, "from");
        requireNonNull(to, "to");
        long sourceRevision = from.revision();
        List<Resource> all = new ArrayList<>();
        Map<String, Integer> byKind = new TreeMap<>();
        for (String kind : from.kinds()) {
            List<Resource> resources = from.list(kind);
            all.addAll(resources);
            byKind.put(kind, resources.size());
            progress.accept("read " + resources.size() + " " + kind + (resources.size() == 1 ? "" : "s"));
        }
        if (from.revision() != sourceRevision) {
            throw new IllegalStateException("the source store changed while it was read (revision " + sourceRevision
                    + " → " + from.revision() + "): stop the controller that uses it, then migrate");
        }
        all.sort(Comparator.comparingLong(Resource::createdRevision));
        long targetRevision = to.transact(tx -> {
            if (tx.revision() != 0) {
                throw new IllegalStateException("the target store is not empty (at revision " + tx.revision()
                        + "): migrate into a new, empty database");
            }
            for (Resource r : all) {
                tx.put(r.kind(), r.name(), r.json(), StoreTransaction.ABSENT);
            }
            return tx.revision();
        });
        for (Map.Entry<String, Integer> e : byKind.entrySet()) {
            List<Resource> copied = to.list(e.getKey());
            List<Resource> original = from.list(e.getKey());
            if (copied.size() != original.size()) {
                throw new IllegalStateException("the copy of " + e.getKey() + " holds " + copied.size()
                        + " resources, the source " + original.size());
            }
            for (int i = 0; i < copied.size(); i++) {
                if (!copied.get(i).name().equals(original.get(i).name())
                        || !copied.get(i).json().equals(original.get(i).json())) {
                    throw new IllegalStateException("the copy of " + e.getKey() + " '" + original.get(i).name()
                            + "' differs from the source");
                }
            }
        }
        progress.accept("copied " + all.size() + " resources of " + byKind.size() + " kinds in one transaction");
        return new Copied(byKind, sourceRevision, targetRevision);
    }
}
