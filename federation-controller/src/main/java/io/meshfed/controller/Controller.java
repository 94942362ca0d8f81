package io.meshfed.controller;

import io.grpc.Status;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.controller.identity.RevokedIdentities;
import io.meshfed.controller.server.HttpEndpoint;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.stream.ConfigStreamService;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A running controller: the store, the federation's CAs, the gRPC API over mTLS (join, config streams,
 * registration, admin) and the HTTPS endpoint (health, metrics, JSON admin). {@link ControllerComponents} builds
 * and closes them.
 */
public final class Controller implements AutoCloseable {
    private final ControllerComponents components;
    private boolean closed; // guarded by this

    private Controller(ControllerComponents components) {
        this.components = components;
    }

    /**
     * Starts a controller on an initialised data directory.
     *
     * @throws io.meshfed.trust.ca.CaException when the data directory holds no federation or its keys do not load
     * @throws io.meshfed.controller.store.StoreException when the store cannot be opened
     * @throws IOException when a listen address is taken
     */
    public static Controller start(ControllerConfig config, Clock clock) throws IOException {
        return start(config, HttpEndpoint.Timeouts.DEFAULTS, clock);
    }

    /** As {@link #start(ControllerConfig, Clock)}, with the HTTP listeners' timeouts given. */
    public static Controller start(ControllerConfig config, HttpEndpoint.Timeouts httpTimeouts, Clock clock)
            throws IOException {
        return start(config, httpTimeouts, clock, StartedComponents.Listener.NONE);
    }

    /**
     * As {@link #start(ControllerConfig, HttpEndpoint.Timeouts, Clock)}, with the timer of every component's delays
     * (push debounce, agent grace periods, cluster syncs and grace) and the worker that reads the store for the
     * config streams given (tests give a fake timer). The controller does not shut them down.
     */
    public static Controller start(ControllerConfig config, HttpEndpoint.Timeouts httpTimeouts, Clock clock,
            ScheduledExecutorService timer, Executor storeReads) throws IOException {
        return new Controller(ControllerComponents.start(config, httpTimeouts, clock,
                ControllerComponents.Timing.given(timer, storeReads), StartedComponents.Listener.NONE));
    }

    /** As {@link #start(ControllerConfig, HttpEndpoint.Timeouts, Clock)}, telling {@code listener} of each component. */
    static Controller start(ControllerConfig config, HttpEndpoint.Timeouts httpTimeouts, Clock clock,
            StartedComponents.Listener listener) throws IOException {
        return new Controller(ControllerComponents.start(config, httpTimeouts, clock,
                ControllerComponents.Timing.owned(), listener));
    }

    static boolean isAdmin(SpiffeId id, SpiffeId adminId) {
        return MeshfedIds.isAdmin(id, adminId.trustDomain());
    }

    /**
     * Who may call what: Join needs no certificate; admin calls need an admin SVID; the rest any verified SVID that
     * was not revoked. Renew checks revocation itself, against the store, so that its refusal is audited.
     */
    static Optional<Status> rule(String method, Optional<SpiffeId> peer, SpiffeId adminId,
            RevokedIdentities revoked) {
        if (method.equals(JoinServiceGrpc.getJoinMethod().getFullMethodName())) {
            return Optional.empty();
        }
        if (peer.isEmpty() && method.startsWith(AdminServiceGrpc.SERVICE_NAME + "/")) {
            return Optional.of(Status.UNAUTHENTICATED.withDescription("this call needs a client certificate: the"
                    + " admin API needs the admin client certificate made by 'meshfed init'"));
        }
        if (peer.isEmpty()) {
            return Optional.of(Status.UNAUTHENTICATED.withDescription(
                    "this call needs a client certificate (an SVID); join the federation first"));
        }
        if (method.startsWith(AdminServiceGrpc.SERVICE_NAME + "/") && !isAdmin(peer.get(), adminId)) {
            return Optional.of(Status.PERMISSION_DENIED.withDescription(peer.get()
                    + " is not an admin identity; admin calls need the credentials made by 'meshfed init'"));
        }
        if (method.equals(JoinServiceGrpc.getRenewMethod().getFullMethodName())) {
            return Optional.empty();
        }
        return revoked.refusal(peer.get()).map(Status.PERMISSION_DENIED::withDescription);
    }

    public InetSocketAddress grpcAddress() {
        return components.grpcAddress();
    }

    public InetSocketAddress httpAddress() {
        return components.httpAddress();
    }

    /** The plain-HTTP probe listener's address, when {@code probeListen} is set. */
    public Optional<InetSocketAddress> probeAddress() {
        return components.probeAddress();
    }

    /** The https_web SPIFFE bundle endpoint's address, when {@code bundleEndpointListen} is set. */
    public Optional<InetSocketAddress> webBundleEndpointAddress() {
        return components.webBundleEndpointAddress();
    }

    public Store store() {
        return components.store();
    }

    /** This replica's part in the leader election (on SQLite it always leads). */
    public io.meshfed.controller.leader.LeaderElection leadership() {
        return components.leadership();
    }

    public ConfigStreamService streams() {
        return components.streams();
    }

    /** Stops accepting, closes streams (subscribers reconnect to another replica or later), closes the store. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        components.close();
    }
}
