package io.meshfed.controller.store;

/** The store cannot do its work: the database is unreachable, corrupt or full. The message says which and where. */
public final class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
