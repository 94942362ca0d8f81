package io.meshfed.controller.store;

/** Reads and writes of one all-or-nothing transaction. Each write takes the next global revision. */
public interface StoreTransaction extends StoreReader {
    /** Any revision: create or replace. */
    long ANY = -1;
    /** The resource must not exist. */
    long ABSENT = 0;

    /**
     * Creates or replaces a resource.
     *
     * @param expectedRevision {@link #ANY}, {@link #ABSENT}, or the revision the caller read
     * @throws ConflictException when the resource is not at {@code expectedRevision}
     */
    Resource put(String kind, String name, String json, long expectedRevision);

    /**
     * Deletes a resource; false when there was none (and {@code expectedRevision} allowed that).
     *
     * @throws ConflictException when the resource is not at {@code expectedRevision}
     */
    boolean delete(String kind, String name, long expectedRevision);
}
