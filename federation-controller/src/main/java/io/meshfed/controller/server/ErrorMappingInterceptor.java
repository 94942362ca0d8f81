package io.meshfed.controller.server;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Closes a call whose service threw with the status {@link ErrorMapping} gives the exception, instead of gRPC's
 * UNKNOWN: services throw domain exceptions and never build a status for them. Installed once on the server, so it
 * covers every service, and on the JSON routes' copy of the admin service.
 *
 * <p>An exception escaping a listener callback is caught here; the call is closed with the mapped status unless it
 * was closed already (then the failure is only logged, by the mapping, when it was unexpected).
 */
public final class ErrorMappingInterceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        ClosingOnce<Q, R> guarded = new ClosingOnce<>(call);
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(guarded, headers);
        } catch (RuntimeException e) {
            guarded.fail(e);
            return new ServerCall.Listener<>() { };
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                try {
                    super.onMessage(message);
                } catch (RuntimeException e) {
                    guarded.fail(e);
                }
            }

            @Override
            public void onHalfClose() {
                try {
                    super.onHalfClose();
                } catch (RuntimeException e) {
                    guarded.fail(e);
                }
            }

            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } catch (RuntimeException e) {
                    guarded.fail(e);
                }
            }

            @Override
            public void onComplete() {
                try {
                    super.onComplete();
                } catch (RuntimeException e) {
                    guarded.fail(e);
                }
            }

            @Override
            public void onReady() {
                try {
                    super.onReady();
                } catch (RuntimeException e) {
                    guarded.fail(e);
                }
            }
        };
    }

    /** The call, remembering whether it was closed, so a failure after the service closed it closes nothing. */
    private static final class ClosingOnce<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private final AtomicBoolean closed = new AtomicBoolean();

        ClosingOnce(ServerCall<Q, R> call) {
            super(call);
        }

        @Override
        public void close(Status status, Metadata trailers) {
            closed.set(true);
            super.close(status, trailers);
        }

        void fail(RuntimeException e) {
            Status status = ErrorMapping.status(e, getMethodDescriptor().getFullMethodName());
            if (closed.compareAndSet(false, true)) {
                super.close(status, new Metadata());
            }
        }
    }
}
