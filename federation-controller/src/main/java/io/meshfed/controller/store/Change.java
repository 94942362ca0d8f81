package io.meshfed.controller.store;

/** One entry of the change log. {@code json} is the new document for a PUT and null for a DELETE. */
public record Change(long revision, Op op, String kind, String name, String json) {
    /** What happened to the resource. */
    public enum Op {
        PUT,
        DELETE
    }
}
