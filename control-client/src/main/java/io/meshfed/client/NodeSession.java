package io.meshfed.client;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.meshfed.api.v1.ControllerInfo;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.RenewRequest;
import io.meshfed.api.v1.RenewResponse;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A joined node's connection to its controller, from its state directory: the current SVID and bundle set as
 * {@link TlsCredentials} (which its own listeners share, so a renewal applies everywhere), an mTLS channel, and
 * renewal at half life (retried every 30 s on failure until the SVID expires). No token is ever needed again while
 * the SVID is valid.
 */
public final class NodeSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeSession.class);
    static final Duration RETRY = Duration.ofSeconds(30);

    private final StateDir state;
    private final TlsCredentials credentials;
    private final ManagedChannel channel;
    private final Clock clock;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "node-session");
        t.setDaemon(true);
        return t;
    });
    private ScheduledFuture<?> renewal;
    private final java.util.List<Runnable> renewalListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The root the controller last asked SVIDs to chain to, once we renewed toward it (never twice for one). */
    private volatile java.security.cert.X509Certificate renewedToward;

    private NodeSession(StateDir state, TlsCredentials credentials, ManagedChannel channel, Clock clock) {
        this.state = state;
        this.credentials = credentials;
        this.channel = channel;
        this.clock = clock;
    }

    /**
     * Opens the session of a node that joined before.
     *
     * @throws IllegalStateException when the state directory holds no identity, or its SVID expired (join again)
     */
    public static NodeSession open(StateDir state, Clock clock) throws IOException {
        requireNonNull(state, "state");
        if (!state.hasIdentity()) {
            throw new IllegalStateException(state.path() + " holds no identity; join first (with a token)");
        }
        X509Svid svid = state.svid();
        if (clock.instant().isAfter(svid.notAfter())) {
            throw new IllegalStateException("the SVID in " + state.path() + " expired at " + svid.notAfter()
                    + "; join again with a new token");
        }
        ControllerInfo controller = state.controller();
        TlsCredentials credentials = TlsCredentials.of(svid, state.bundles());
        ManagedChannel channel = ControllerChannels.mtls(controller.getAddressesList(), credentials,
                SpiffeId.parse(controller.getSpiffeId()), clock);
        NodeSession session = new NodeSession(state, credentials, channel, clock);
        session.scheduleRenewal();
        return session;
    }

    /** The clock the session checks SVID lifetimes against. */
    public Clock clock() {
        return clock;
    }

    public TlsCredentials credentials() {
        return credentials;
    }

    public ManagedChannel channel() {
        return channel;
    }

    public SpiffeId id() {
        return credentials.svid().id();
    }

    public StateDir state() {
        return state;
    }

    private synchronized void scheduleRenewal() {
        X509Svid svid = credentials.svid();
        Instant half = svid.notBefore().plus(Duration.between(svid.notBefore(), svid.notAfter()).dividedBy(2));
        long delay = Math.max(0, Duration.between(clock.instant(), half).toMillis());
        renewal = scheduler.schedule(this::renewQuietly, delay, TimeUnit.MILLISECONDS);
    }

    private void renewQuietly() {
        try {
            renewNow();
        } catch (RuntimeException | IOException e) {
            LOG.warn("SVID renewal failed, retrying in {}s: {}", RETRY.toSeconds(), e.toString());
            synchronized (this) {
                renewal = scheduler.schedule(this::renewQuietly, RETRY.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Renews now: a new key, a CSR for the same ID, the new SVID on disk and in use for the next handshakes. */
    public void renewNow() throws IOException {
        SpiffeId id = id();
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        RenewResponse response = JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .renew(RenewRequest.newBuilder()
                        .setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(keys, id))).build());
        X509Svid renewed = StateDir.Convert.svid(id.toString(), response.getSvidChainList(), keys.getPrivate());
        state.saveSvid(renewed);
        state.saveBundles(response.getBundles());
        credentials.updateSvid(renewed);
        credentials.updateBundles(StateDir.Convert.bundleSet(response.getBundles()));
        LOG.info("renewed SVID {} (serial {}), valid until {}", id, renewed.leaf().getSerialNumber().toString(16),
                renewed.notAfter());
        renewalListeners.forEach(Runnable::run);
        synchronized (this) {
            if (renewal != null) {
                renewal.cancel(false);
            }
            scheduleRenewal();
        }
    }

    /** Runs {@code listener} after every renewal (on the renewing thread; it must not block). */
    public void onRenewed(Runnable listener) {
        renewalListeners.add(requireNonNull(listener, "listener"));
    }

    /**
     * The controller asks SVIDs of our trust domain to chain to {@code root} (a root rotation): when ours does not,
     * renews within {@code jitter} (random, so that a fleet does not renew at one instant). Once per root: an SVID
     * that still does not chain to it after that renewal keeps its normal schedule.
     */
    public void renewToward(java.security.cert.X509Certificate root, Duration jitter) {
        requireNonNull(root, "root");
        if (root.equals(renewedToward) || chainsTo(root)) {
            return;
        }
        renewedToward = root;
        long delay = jitter.isZero() ? 0 : java.util.concurrent.ThreadLocalRandom.current().nextLong(jitter.toMillis());
        LOG.info("the controller rotates {}'s root: renewing the SVID toward the new root in {} ms",
                id().trustDomain().name(), delay);
        synchronized (this) {
            if (renewal != null) {
                renewal.cancel(false);
            }
            renewal = scheduler.schedule(this::renewQuietly, delay, TimeUnit.MILLISECONDS);
        }
    }

    private boolean chainsTo(java.security.cert.X509Certificate root) {
        X509Svid svid = credentials.svid();
        try {
            new io.meshfed.trust.X509SvidVerifier(clock).verify(svid.chain(), io.meshfed.trust.BundleSet.of(
                    io.meshfed.trust.TrustBundle.of(svid.id().trustDomain(), java.util.List.of(root))), svid.id());
            return true;
        } catch (io.meshfed.trust.SvidVerificationException e) {
            return false;
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        channel.shutdownNow();
    }
}
