package io.meshfed.controller.store;

/** A reader asked for changes the log no longer holds. It must list the resources again and watch from now. */
public final class CompactedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CompactedException(String message) {
        super(message);
    }
}
