package io.meshfed.controller.store;

import static java.util.Objects.requireNonNull;

/** One stored resource: its kind and name, its JSON document, and the revision of its last change. */
public record Resource(String kind, String name, String json, long revision, long createdRevision) {
    public Resource {
        requireNonNull(kind, "kind");
        requireNonNull(name, "name");
        requireNonNull(json, "json");
    }
}
