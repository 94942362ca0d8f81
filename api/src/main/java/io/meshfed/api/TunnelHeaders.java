package io.meshfed.api;

/**
 * The request and response headers of a tunnel stream (an HTTP/2 {@code CONNECT} to a gateway's tunnel listener)
 * beyond the pseudo-headers. Header names are lowercase, as HTTP/2 requires.
 */
public final class TunnelHeaders {
    /**
     * Request: the SPIFFE ID of the caller the sending gateway speaks for (a pod it attested), when that is not the
     * gateway itself. The receiver accepts it only from a gateway, and only for an ID in that gateway's own trust
     * domain; any other is refused ({@code forged_identity}).
     */
    public static final String FORWARDED_IDENTITY = "meshfed-forwarded-identity";
    /** Response: why the receiver refused the stream, a stable reason ({@code unauthorized}, {@code bad_authority}, ...). */
    public static final String REFUSAL = "meshfed-refusal";
    /** The ALPN protocol a tunnel connection must negotiate. */
    public static final String ALPN = "h2";

    private TunnelHeaders() {}
}
