package io.meshfed.controller.leader;

/** A leader-only write from a replica that no longer holds the leader lease: refused, nothing written. */
public final class NotLeaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NotLeaderException(String message) {
        super(message);
    }
}
