package io.meshfed.controller.server;

/**
 * Whether the controller is ready to serve, as {@code /readyz} answers it: false until every component has started,
 * and false again from the moment it starts closing. Owned by the composition root, read by the HTTP listeners.
 */
public final class Readiness {
    private volatile boolean ready;

    /** Every component is started. */
    public void markReady() {
        ready = true;
    }

    /** The controller is closing (or never finished starting). */
    public void markNotReady() {
        ready = false;
    }

    public boolean isReady() {
        return ready;
    }
}
