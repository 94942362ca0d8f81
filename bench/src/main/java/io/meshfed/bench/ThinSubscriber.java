package io.meshfed.bench;

import com.google.protobuf.CodedInputStream;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.v1.Ack;
import io.meshfed.api.v1.ConfigRequest;
import io.meshfed.api.v1.ConfigServiceGrpc;
import io.meshfed.api.v1.Subscribe;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A benchmark subscriber that costs the benchmark's own machine as little as a remote gateway would: it reads only
 * the version and nonce of each snapshot (skipping every other field without building objects) and ACKs. So the
 * figure is the controller's work, not a thousand in-process parsers sharing its cores.
 */
final class ThinSubscriber implements AutoCloseable {
    /** Version and nonce of one received snapshot, and its size on the wire. */
    record Header(String version, String nonce, long bytes) {}

    private static final MethodDescriptor<ConfigRequest, Header> METHOD = ConfigServiceGrpc.getStreamConfigMethod()
            .toBuilder(ProtoUtils.marshaller(ConfigRequest.getDefaultInstance()), new HeaderMarshaller()).build();

    private final StreamObserver<ConfigRequest> requests;
    private volatile String version = "";
    private volatile long receivedAtNanos;
    private volatile long bytes;

    /** @param deltas whether it asks for deltas (it never applies them: it only reads their version) */
    ThinSubscriber(ManagedChannel channel, boolean deltas) {
        requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(METHOD, CallOptions.DEFAULT),
                new StreamObserver<>() {
                    @Override
                    public void onNext(Header h) {
                        receivedAtNanos = System.nanoTime();
                        bytes += h.bytes();
                        version = h.version();
                        send(ConfigRequest.newBuilder().setAck(Ack.newBuilder().setVersion(h.version())
                                .setNonce(h.nonce())).build());
                    }

                    @Override
                    public void onError(Throwable t) {
                        version = "error: " + t;
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        send(ConfigRequest.newBuilder().setSubscribe(Subscribe.newBuilder().setDeltas(deltas)).build());
    }

    /** Bytes of every message received so far. */
    long bytes() {
        return bytes;
    }

    private synchronized void send(ConfigRequest r) {
        requests.onNext(r);
    }

    String version() {
        return version;
    }

    long receivedAtNanos() {
        return receivedAtNanos;
    }

    @Override
    public void close() {
        try {
            requests.onCompleted();
        } catch (RuntimeException ignored) {
            // already closed
        }
    }

    /** Reads fields 1 (version) and 2 (nonce); later occurrences win, as protobuf merging says. */
    private static final class HeaderMarshaller implements MethodDescriptor.Marshaller<Header> {
        @Override
        public InputStream stream(Header value) {
            throw new UnsupportedOperationException("subscribers do not send snapshots");
        }

        @Override
        public Header parse(InputStream stream) {
            try {
                CodedInputStream in = CodedInputStream.newInstance(stream);
                in.setSizeLimit(Integer.MAX_VALUE);
                String version = "";
                String nonce = "";
                int tag;
                while ((tag = in.readTag()) != 0) {
                    switch (tag >>> 3) {
                        case 1 -> version = in.readStringRequireUtf8();
                        case 2 -> nonce = in.readStringRequireUtf8();
                        default -> in.skipField(tag);
                    }
                }
                return new Header(version, nonce, in.getTotalBytesRead());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
