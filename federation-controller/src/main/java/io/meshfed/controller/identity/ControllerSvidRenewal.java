package io.meshfed.controller.identity;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.tls.TlsCredentials;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews the controller's own SVID at half its lifetime, in place in the credentials its listeners use. A failed
 * renewal is logged and tried again at the next interval; the current SVID keeps serving until then.
 */
public final class ControllerSvidRenewal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControllerSvidRenewal.class);

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "controller-maintenance");
        t.setDaemon(true);
        return t;
    });

    private ControllerSvidRenewal() {}

    /** Starts renewing the SVID in {@code credentials} every {@code ttl / 2}, each new one valid for {@code ttl}. */
    public static ControllerSvidRenewal start(FederationIdentity identity, TlsCredentials credentials, Duration ttl) {
        requireNonNull(identity, "identity");
        requireNonNull(credentials, "credentials");
        ControllerSvidRenewal renewal = new ControllerSvidRenewal();
        long renewEvery = ttl.toSeconds() / 2;
        renewal.scheduler.scheduleAtFixedRate(() -> {
            try {
                credentials.updateSvid(identity.issueControllerSvid(ttl));
                LOG.info("renewed the controller SVID");
            } catch (RuntimeException e) {
                LOG.error("cannot renew the controller SVID; retrying at the next interval: {}", e.toString());
            }
        }, renewEvery, renewEvery, TimeUnit.SECONDS);
        return renewal;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
