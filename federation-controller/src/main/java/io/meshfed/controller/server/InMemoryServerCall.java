package io.meshfed.controller.server;

import static java.util.Objects.requireNonNull;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One unary call delivered to a bound gRPC service without a transport: the caller feeds the request to the
 * listener the service's handler returns, and this call collects the one response and the closing status. The
 * transport attributes (the TLS session) are the caller's, so interceptors see the caller as on a gRPC connection.
 */
final class InMemoryServerCall<Q, R> extends ServerCall<Q, R> {
    /** How the call ended: its status, and the response when the status is OK. */
    record Outcome<R>(Status status, R response) {}

    private final MethodDescriptor<Q, R> method;
    private final Attributes attributes;
    private final CompletableFuture<Outcome<R>> outcome = new CompletableFuture<>();
    private R response; // guarded by this
    private volatile boolean cancelled;

    InMemoryServerCall(MethodDescriptor<Q, R> method, Attributes attributes) {
        this.method = requireNonNull(method, "method");
        this.attributes = requireNonNull(attributes, "attributes");
    }

    @Override
    public void request(int numMessages) {
        // The caller delivers the one request itself.
    }

    @Override
    public void sendHeaders(Metadata headers) {
        // No headers travel: the answer is the message or the status.
    }

    @Override
    public synchronized void sendMessage(R message) {
        if (outcome.isDone()) {
            throw new IllegalStateException("call already closed");
        }
        if (response != null) {
            throw new IllegalStateException(method.getFullMethodName() + " is unary: one response only");
        }
        response = requireNonNull(message, "message");
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
        if (outcome.isDone()) {
            throw new IllegalStateException("call already closed");
        }
        if (status.isOk() && response == null) {
            status = Status.INTERNAL.withDescription(method.getFullMethodName() + " completed without a response");
        }
        outcome.complete(new Outcome<>(status, status.isOk() ? response : null));
    }

    boolean isClosed() {
        return outcome.isDone();
    }

    /** Marks the call cancelled (the caller gave up); the service sees it through {@link #isCancelled}. */
    void cancel() {
        cancelled = true;
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public boolean isReady() {
        return !outcome.isDone();
    }

    @Override
    public Attributes getAttributes() {
        return attributes;
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
        return method;
    }

    /** The outcome, waiting at most {@code timeout} for a service that answers from another thread. */
    Outcome<R> await(Duration timeout) throws TimeoutException, InterruptedException {
        try {
            return outcome.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the outcome is never completed exceptionally", e);
        }
    }
}
