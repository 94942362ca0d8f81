package io.meshfed.controller.federation;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The controller's settings for SPIFFE federation: the {@code https_web} bundle endpoint's listener and its web PKI
 * certificate and key (PEM files; all three or none: without them the bundles are served only on the HTTPS port, the
 * {@code https_spiffe} profile, with the controller's SVID), and how long one fetch of an outside trust domain's
 * bundle may take.
 */
public record FederationSettings(InetSocketAddress bundleEndpointListen, Path bundleEndpointCertFile,
        Path bundleEndpointKeyFile, Duration fetchTimeout) {
    public static final Duration DEFAULT_FETCH_TIMEOUT = Duration.ofSeconds(10);
    public static final FederationSettings DEFAULTS = new FederationSettings(null, null, null, null);

    public FederationSettings {
        fetchTimeout = fetchTimeout == null ? DEFAULT_FETCH_TIMEOUT : fetchTimeout;
        if (fetchTimeout.isNegative() || fetchTimeout.isZero() || fetchTimeout.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("federationFetchTimeout must be above 0 and at most 1m, got "
                    + fetchTimeout);
        }
        boolean listen = bundleEndpointListen != null;
        if (listen != (bundleEndpointCertFile != null) || listen != (bundleEndpointKeyFile != null)) {
            throw new IllegalArgumentException("bundleEndpointListen, bundleEndpointCertFile and"
                    + " bundleEndpointKeyFile go together: set all three for an https_web bundle endpoint, or none");
        }
    }

    /** Whether an https_web bundle endpoint listener is configured. */
    public boolean webEndpoint() {
        return bundleEndpointListen != null;
    }
}
