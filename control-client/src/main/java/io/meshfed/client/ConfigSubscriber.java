package io.meshfed.client;

import static java.util.Objects.requireNonNull;

import io.grpc.stub.StreamObserver;
import io.meshfed.api.config.ConfigDeltas;
import io.meshfed.api.v1.Ack;
import io.meshfed.api.v1.ConfigRequest;
import io.meshfed.api.v1.ConfigServiceGrpc;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Nack;
import io.meshfed.api.v1.Subscribe;
import io.meshfed.api.concurrent.SerialExecutor;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's end of the config stream. At start it applies the snapshot cached on disk, so the node works before
 * (and without) the controller. It asks for deltas: a delta received is applied to the snapshot in effect
 * ({@link ConfigDeltas#apply}), and one that is not for that snapshot, or does not give the version it names, is
 * NACKed with the reason (the controller then sends the whole snapshot). Each whole snapshot so received or made is
 * applied; if the applier throws, it is NACKed with the reason and the previous one stays; otherwise it is ACKed,
 * cached, and its bundle set put in use. When the stream
 * ends it reconnects with backoff (1 s doubling to 30 s), telling the controller the version it holds. The applier,
 * the ACKs and the reconnects run on one serial executor, the node's (its config applier's) or one of its own.
 */
public final class ConfigSubscriber implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigSubscriber.class);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** Subscribers asked to renew toward a new root do so within this, at random. */
    static final Duration RENEW_JITTER = Duration.ofSeconds(5);

    /** Puts a snapshot into effect; throws to reject it. */
    @FunctionalInterface
    public interface Applier {
        void apply(ConfigSnapshot snapshot) throws Exception;
    }

    private final NodeSession session;
    private final Applier applier;
    private final SerialExecutor executor;
    private final ScheduledExecutorService ownTimer; // null when the executor was given
    private volatile String version = "";
    /** The whole snapshot in effect, the base of the next delta; null before the first. Confined to `executor`. */
    private io.meshfed.api.config.HeldSnapshot held;
    private volatile boolean connected;
    private volatile java.time.Instant lastUp; // when the stream was last seen up; null: not since start
    private final java.util.concurrent.atomic.AtomicLong sessions = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closed;
    private volatile StreamObserver<ConfigRequest> requests;
    // Confined to `executor`.
    private Duration backoff = Duration.ofSeconds(1);
    private SerialExecutor.Scheduled reconnect;

    private ConfigSubscriber(NodeSession session, Applier applier, SerialExecutor executor,
            ScheduledExecutorService ownTimer) {
        session.onRenewed(() -> executor.executeIfRunning(this::reportSvid));
        this.session = session;
        this.applier = applier;
        this.executor = executor;
        this.ownTimer = ownTimer;
    }

    /** Applies the cached snapshot (if any), then subscribes; on a serial executor of its own. */
    public static ConfigSubscriber start(NodeSession session, Applier applier) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "config-subscriber-timer");
            t.setDaemon(true);
            return t;
        });
        return start(session, applier, SerialExecutor.start("config-subscriber", timer), timer);
    }

    /**
     * Applies the cached snapshot (if any), then subscribes. {@code applier} runs on {@code executor} (the node's
     * config applier), as do the ACKs and the reconnects (timed by the executor's timer); closing the subscriber
     * leaves the executor running.
     */
    public static ConfigSubscriber start(NodeSession session, Applier applier, SerialExecutor executor) {
        return start(session, applier, requireNonNull(executor, "executor"), null);
    }

    private static ConfigSubscriber start(NodeSession session, Applier applier, SerialExecutor executor,
            ScheduledExecutorService ownTimer) {
        ConfigSubscriber s = new ConfigSubscriber(requireNonNull(session, "session"), requireNonNull(applier, "applier"),
                executor, ownTimer);
        executor.submit(() -> {
            s.applyCached();
            s.connect();
            return null;
        }).join();
        return s;
    }

    private void applyCached() {
        executor.checkInContext();
        session.state().snapshot().ifPresent(cached -> {
            try {
                applier.apply(cached);
                version = cached.getVersion();
                held = io.meshfed.api.config.HeldSnapshot.of(cached);
                LOG.info("applied cached config version {} from {}", cached.getVersion(), session.state().path());
            } catch (Exception e) {
                LOG.warn("cached config version {} rejected: {}", cached.getVersion(), e.toString());
            }
        });
    }

    /** The version in effect; empty before the first. */
    public String version() {
        return version;
    }

    public boolean connected() {
        return connected;
    }

    /**
     * Whether the stream is up now or was up within {@code grace} (by the session's clock); false before it was
     * first up, even when a cached snapshot is in effect.
     */
    public boolean upWithin(Duration grace) {
        if (connected) {
            return true;
        }
        java.time.Instant last = lastUp;
        return last != null && !session.clock().instant().isAfter(last.plus(grace));
    }

    private void up() {
        connected = true;
        lastUp = session.clock().instant();
    }

    private void down() {
        if (connected) {
            lastUp = session.clock().instant();
        }
        connected = false;
    }

    /** How many times a stream to the controller has been opened; a change means the controller may have lost us. */
    public long sessions() {
        return sessions.get();
    }

    private synchronized void send(ConfigRequest request) {
        StreamObserver<ConfigRequest> r = requests;
        if (r != null) {
            r.onNext(request);
        }
    }

    private void connect() {
        executor.checkInContext();
        reconnect = null;
        if (closed) {
            return;
        }
        StreamObserver<ConfigRequest> stream = ConfigServiceGrpc.newStub(session.channel()).streamConfig(
                new io.grpc.stub.ClientResponseObserver<ConfigRequest, ConfigSnapshot>() {
                    private boolean counted;

                    @Override
                    public void beforeStart(io.grpc.stub.ClientCallStreamObserver<ConfigRequest> call) {
                        // Ready to send means the stream is up: a controller holding our version sends nothing.
                        call.setOnReadyHandler(() -> {
                            if (!counted) {
                                counted = true;
                                up();
                                sessions.incrementAndGet();
                            }
                        });
                    }

                    @Override
                    public void onNext(ConfigSnapshot snapshot) {
                        up();
                        executor.executeIfRunning(() -> {
                            backoff = Duration.ofSeconds(1);
                            receive(snapshot);
                        });
                    }

                    @Override
                    public void onError(Throwable t) {
                        down();
                        executor.executeIfRunning(() -> ended("stream failed: " + t.getMessage()));
                    }

                    @Override
                    public void onCompleted() {
                        down();
                        executor.executeIfRunning(() -> ended("stream closed by the controller"));
                    }
                });
        synchronized (this) {
            requests = stream;
        }
        send(ConfigRequest.newBuilder().setSubscribe(Subscribe.newBuilder().setVersion(version).setDeltas(true))
                .build());
        reportSvid();
    }

    /** Tells the controller which SVID is in use (a root rotation waits until none of the old chain is). */
    private void reportSvid() {
        io.meshfed.api.v1.SvidReport.Builder report = io.meshfed.api.v1.SvidReport.newBuilder();
        try {
            for (java.security.cert.X509Certificate c : session.credentials().svid().chain()) {
                report.addChain(com.google.protobuf.ByteString.copyFrom(c.getEncoded()));
            }
        } catch (java.security.cert.CertificateEncodingException e) {
            LOG.warn("cannot report the SVID: {}", e.toString());
            return;
        }
        send(ConfigRequest.newBuilder().setSvid(report).build());
    }

    private void receive(ConfigSnapshot received) {
        executor.checkInContext();
        if (closed) {
            return;
        }
        io.meshfed.api.config.HeldSnapshot next;
        try {
            next = io.meshfed.api.config.HeldSnapshot.apply(held, received);
        } catch (ConfigDeltas.Mismatch e) {
            LOG.warn("cannot apply the delta to config version {}; asking for the whole snapshot: {}",
                    received.getVersion(), e.getMessage());
            send(ConfigRequest.newBuilder().setNack(Nack.newBuilder().setVersion(received.getVersion())
                    .setNonce(received.getNonce()).setReason(e.getMessage()).setDeltaMismatch(true)).build());
            return;
        }
        ConfigSnapshot snapshot = next.snapshot();
        try {
            applier.apply(snapshot);
        } catch (Exception e) {
            String reason = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.warn("rejected config version {}: {}", received.getVersion(), reason);
            Nack.Builder nack = Nack.newBuilder().setVersion(received.getVersion()).setNonce(received.getNonce())
                    .setReason(reason);
            if (e instanceof io.meshfed.api.config.RoutesRejectedException rejected) {
                nack.addAllRejectedRoutes(rejected.rejected());
            }
            send(ConfigRequest.newBuilder().setNack(nack).build());
            return;
        }
        held = next;
        version = snapshot.getVersion();
        session.credentials().updateBundles(StateDir.Convert.bundleSet(snapshot.getBundles()));
        if (!snapshot.getSvidIssuerRoot().isEmpty()) {
            try {
                session.renewToward(io.meshfed.trust.Pem.certificateFromDer(snapshot.getSvidIssuerRoot().toByteArray()),
                        RENEW_JITTER);
            } catch (RuntimeException e) {
                LOG.warn("config version {} names an SVID issuer root that does not parse: {}", snapshot.getVersion(),
                        e.toString());
            }
        }
        try {
            session.state().saveSnapshot(snapshot.toBuilder().clearNonce().build());
        } catch (java.io.IOException e) {
            LOG.warn("cannot cache config version {}: {}", snapshot.getVersion(), e.toString());
        }
        send(ConfigRequest.newBuilder().setAck(Ack.newBuilder().setVersion(snapshot.getVersion())
                .setNonce(snapshot.getNonce())).build());
    }

    private void ended(String why) {
        executor.checkInContext();
        down();
        if (closed || reconnect != null) {
            return;
        }
        Duration wait = backoff;
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        LOG.info("{}; keeping config version {} and reconnecting in {}s", why, version, wait.toSeconds());
        reconnect = executor.schedule(this::connect, wait);
    }

    @Override
    public void close() {
        closed = true;
        executor.executeIfRunning(() -> {
            if (reconnect != null) {
                reconnect.cancel();
            }
        });
        if (ownTimer != null) {
            executor.shutdown(Duration.ofSeconds(5));
            ownTimer.shutdownNow();
        }
        StreamObserver<ConfigRequest> r = requests;
        if (r != null) {
            try {
                r.onCompleted();
            } catch (RuntimeException ignored) {
                // already closed
            }
        }
    }
}
