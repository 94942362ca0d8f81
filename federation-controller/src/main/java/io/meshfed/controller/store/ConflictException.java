package io.meshfed.controller.store;

/**
 * A compare-and-set write found another revision than expected: someone changed the resource in between, or it
 * exists when it should not (or the reverse). Nothing of the transaction was written.
 */
public final class ConflictException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(message);
    }
}
