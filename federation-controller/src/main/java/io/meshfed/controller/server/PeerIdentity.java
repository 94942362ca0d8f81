package io.meshfed.controller.server;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.tls.SpiffeTls;
import java.util.Optional;
import java.util.function.BiFunction;
import javax.net.ssl.SSLSession;

/**
 * Puts the caller's verified SPIFFE ID (from the mTLS session; the trust manager verified it in the handshake) into
 * the gRPC context, and enforces a per-method rule on it before the call reaches a service.
 */
public final class PeerIdentity implements ServerInterceptor {
    private static final Context.Key<SpiffeId> KEY = Context.key("meshfed-peer-spiffe-id");

    private final BiFunction<String, Optional<SpiffeId>, Optional<Status>> rule;

    /** @param rule given the full method name and the caller's ID, a refusal status or empty to allow */
    public PeerIdentity(BiFunction<String, Optional<SpiffeId>, Optional<Status>> rule) {
        this.rule = rule;
    }

    /** The caller of the current call, when it presented a verified SVID. */
    public static Optional<SpiffeId> current() {
        return Optional.ofNullable(KEY.get());
    }

    /** The caller of the current call; the method's rule guarantees one. */
    public static SpiffeId required() {
        return current().orElseThrow(() -> Status.UNAUTHENTICATED
                .withDescription("this call needs a client certificate (an SVID)").asRuntimeException());
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        Optional<SpiffeId> peer = session == null ? Optional.empty() : SpiffeTls.peerId(session);
        Optional<Status> refusal = rule.apply(call.getMethodDescriptor().getFullMethodName(), peer);
        if (refusal.isPresent()) {
            call.close(refusal.get(), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        Context context = Context.current().withValue(KEY, peer.orElse(null));
        return Contexts.interceptCall(context, call, headers, next);
    }
}
