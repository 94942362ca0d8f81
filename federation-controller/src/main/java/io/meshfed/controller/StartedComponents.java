package io.meshfed.controller;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The components started so far, each with what closes it; {@link #close} closes them in the reverse order of their
 * start, each once, going on past a failing one. Used both for a normal stop and when a start fails half-way, so a
 * failed start releases what it had taken (ports, the store).
 */
final class StartedComponents implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StartedComponents.class);

    /** Told of each component as it starts and as it closes: for the debug log and for tests. */
    interface Listener {
        Listener NONE = new Listener() {};

        default void started(String component) {}

        default void closed(String component) {}
    }

    private record Entry(String name, AutoCloseable closer) {}

    private final Listener listener;
    private final Deque<Entry> started = new ArrayDeque<>(); // guarded by this

    StartedComponents(Listener listener) {
        this.listener = requireNonNull(listener, "listener");
    }

    /** {@code name} has started; {@code closer} stops it. */
    synchronized void add(String name, AutoCloseable closer) {
        requireNonNull(name, "name");
        requireNonNull(closer, "closer");
        started.push(new Entry(name, closer));
        LOG.debug("started {}", name);
        listener.started(name);
    }

    @Override
    public synchronized void close() {
        while (!started.isEmpty()) {
            Entry e = started.pop();
            try {
                e.closer().close();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                LOG.warn("interrupted while closing {}", e.name());
            } catch (Exception ex) {
                LOG.error("cannot close {} cleanly: {}", e.name(), ex.toString());
            }
            LOG.debug("closed {}", e.name());
            listener.closed(e.name());
        }
    }
}
