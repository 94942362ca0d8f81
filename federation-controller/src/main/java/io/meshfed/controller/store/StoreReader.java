package io.meshfed.controller.store;

import java.util.List;
import java.util.Optional;

/** Reads. Inside a transaction they see the transaction's own writes. */
public interface StoreReader {
    /** The global revision: the revision of the latest committed change, 0 for an empty store. */
    long revision();

    Optional<Resource> get(String kind, String name);

    /** All resources of a kind, ordered by name. */
    List<Resource> list(String kind);
}
