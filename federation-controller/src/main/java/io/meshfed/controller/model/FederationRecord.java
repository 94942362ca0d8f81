package io.meshfed.controller.model;

/**
 * A SPIFFE federation with an outside trust domain (Kind {@code Federation}, keyed by the trust domain): what the
 * admin decided (the bundle endpoint, its profile, the endpoint's SPIFFE ID for {@code https_spiffe}, the CA PEM) and
 * what the last fetches found: the last good bundle as SPIFFE bundle JSON ({@code bundleJson}, null until one was
 * fetched), the state, the last error and the times (epoch milliseconds, 0 for never).
 */
public record FederationRecord(String trustDomain, String bundleEndpoint, String profile, String endpointSpiffeId,
        String caPem, String bundleJson, long sequence, String state, String lastError, long lastSuccessMillis,
        long lastAttemptMillis, long nextRefreshMillis) {
    public static final String PROFILE_WEB = "https_web";
    public static final String PROFILE_SPIFFE = "https_spiffe";
    public static final String PENDING = "pending";
    public static final String OK = "ok";
    public static final String FAILING = "failing";

    /** The same federation with the admin's settings replaced, its fetched bundle and history kept. */
    public FederationRecord withSettings(String bundleEndpoint, String profile, String endpointSpiffeId, String caPem) {
        return new FederationRecord(trustDomain, bundleEndpoint, profile, endpointSpiffeId, caPem, bundleJson,
                sequence, state, lastError, lastSuccessMillis, lastAttemptMillis, nextRefreshMillis);
    }

    /** A fetch that brought {@code json} (sequence {@code sequence}) at {@code now}. */
    public FederationRecord fetched(String json, long sequence, long now, long next) {
        return new FederationRecord(trustDomain, bundleEndpoint, profile, endpointSpiffeId, caPem, json, sequence, OK,
                "", now, now, next);
    }

    /** A fetch that failed at {@code now}: the last good bundle stays. */
    public FederationRecord failed(String error, long now, long next) {
        return new FederationRecord(trustDomain, bundleEndpoint, profile, endpointSpiffeId, caPem, bundleJson,
                sequence, FAILING, error, lastSuccessMillis, now, next);
    }
}
