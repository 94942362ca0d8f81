package io.meshfed.controller.testing;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.v1.Ack;
import io.meshfed.api.v1.ConfigRequest;
import io.meshfed.api.v1.ConfigServiceGrpc;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Nack;
import io.meshfed.api.v1.Subscribe;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * A config-stream subscriber as a gateway would run it: subscribes, then ACKs (or NACKs) every snapshot. One that
 * takes deltas applies each to the snapshot it holds (a delta it cannot apply is NACKed with the reason); what the
 * test reads is always the whole snapshot.
 */
public final class TestSubscriber implements AutoCloseable {
    /** What a snapshot says of {@code service} in {@code network}; empty when the snapshot has none of it. */
    public static java.util.Optional<io.meshfed.api.v1.NetworkEndpoints> remote(ConfigSnapshot s, String service,
            String network) {
        if (s == null) {
            return java.util.Optional.empty();
        }
        return s.getServicesList().stream().filter(x -> x.getName().equals(service))
                .flatMap(x -> x.getNetworksList().stream()).filter(n -> n.getNetwork().equals(network))
                .findFirst();
    }

    private static final int MAX_QUEUED = 16;
    private final BlockingQueue<ConfigSnapshot> received = new LinkedBlockingQueue<>();
    private final AtomicReference<ConfigSnapshot> accepted = new AtomicReference<>();
    private volatile long acceptedAtNanos;
    private final AtomicReference<Throwable> error = new AtomicReference<>();
    private final StreamObserver<ConfigRequest> requests;
    /** Every message as it came, delta or whole. */
    private final java.util.List<ConfigSnapshot> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.List<String> nacks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private io.meshfed.api.config.HeldSnapshot held; // on the gRPC callback thread only

    public TestSubscriber(ManagedChannel channel, String heldVersion, Predicate<ConfigSnapshot> reject) {
        this(channel, heldVersion, null, false, reject);
    }

    /** A subscriber that takes deltas, holding {@code held} (null: nothing) and saying it holds {@code heldVersion}. */
    public static TestSubscriber takingDeltas(ManagedChannel channel, String heldVersion, ConfigSnapshot held,
            Predicate<ConfigSnapshot> reject) {
        return new TestSubscriber(channel, heldVersion, held, true, reject);
    }

    private TestSubscriber(ManagedChannel channel, String heldVersion, ConfigSnapshot heldSnapshot, boolean deltas,
            Predicate<ConfigSnapshot> reject) {
        this.held = heldSnapshot == null ? null : io.meshfed.api.config.HeldSnapshot.of(heldSnapshot);
        requests = ConfigServiceGrpc.newStub(channel).streamConfig(new StreamObserver<>() {
            @Override
            public void onNext(ConfigSnapshot message) {
                messages.add(message);
                io.meshfed.api.config.HeldSnapshot next;
                try {
                    next = io.meshfed.api.config.HeldSnapshot.apply(held, message);
                } catch (io.meshfed.api.config.ConfigDeltas.Mismatch e) {
                    nacks.add(e.getMessage());
                    send(ConfigRequest.newBuilder().setNack(Nack.newBuilder().setVersion(message.getVersion())
                            .setNonce(message.getNonce()).setReason(e.getMessage()).setDeltaMismatch(true)).build());
                    return;
                }
                ConfigSnapshot snapshot = next.snapshot();
                if (reject.test(snapshot)) {
                    nacks.add("test rejects this version");
                    send(ConfigRequest.newBuilder().setNack(Nack.newBuilder().setVersion(snapshot.getVersion())
                            .setNonce(snapshot.getNonce()).setReason("test rejects this version")).build());
                } else {
                    held = next;
                    accepted.set(snapshot);
                    acceptedAtNanos = System.nanoTime();
                    send(ConfigRequest.newBuilder().setAck(Ack.newBuilder().setVersion(snapshot.getVersion())
                            .setNonce(snapshot.getNonce())).build());
                }
                received.add(snapshot);
                while (received.size() > MAX_QUEUED) {
                    received.poll(); // a test that does not read them wants the latest only
                }
            }

            @Override
            public void onError(Throwable t) {
                error.set(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        send(ConfigRequest.newBuilder().setSubscribe(Subscribe.newBuilder().setVersion(heldVersion)
                .setDeltas(deltas)).build());
    }

    /** Every message received, as it came (a delta is a snapshot message with its delta set). */
    public java.util.List<ConfigSnapshot> messages() {
        return java.util.List.copyOf(messages);
    }

    /** The reasons of the NACKs it sent. */
    public java.util.List<String> nacks() {
        return java.util.List.copyOf(nacks);
    }

    public TestSubscriber(ManagedChannel channel) {
        this(channel, "", s -> false);
    }

    private synchronized void send(ConfigRequest request) {
        requests.onNext(request);
    }

    /** Reports the SVID in use, as a node does on subscribing and after each renewal. */
    public void reportSvid(io.meshfed.trust.X509Svid svid) throws java.security.cert.CertificateEncodingException {
        io.meshfed.api.v1.SvidReport.Builder report = io.meshfed.api.v1.SvidReport.newBuilder();
        for (java.security.cert.X509Certificate c : svid.chain()) {
            report.addChain(com.google.protobuf.ByteString.copyFrom(c.getEncoded()));
        }
        send(ConfigRequest.newBuilder().setSvid(report).build());
    }

    /** The next snapshot received, or null after {@code timeout}. */
    public ConfigSnapshot next(Duration timeout) throws InterruptedException {
        return received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits for a snapshot that satisfies {@code condition}; fails after {@code timeout}. */
    public ConfigSnapshot awaitSnapshot(Predicate<ConfigSnapshot> condition, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ConfigSnapshot latest = accepted.get();
        if (latest != null && condition.test(latest)) {
            received.clear(); // everything queued is older than what the caller now has
            return latest;
        }
        while (System.nanoTime() < deadline) {
            ConfigSnapshot s = received.poll(Math.max(1, (deadline - System.nanoTime()) / 1_000_000),
                    TimeUnit.MILLISECONDS);
            if (s != null && condition.test(s)) {
                return s;
            }
        }
        throw new AssertionError("no matching snapshot within " + timeout + "; latest: "
                + (accepted.get() == null ? "none" : accepted.get().getVersion()) + "; error: " + error.get());
    }

    /** {@link System#nanoTime()} when the latest accepted snapshot arrived (and its ACK was sent). */
    public long acceptedAtNanos() {
        return acceptedAtNanos;
    }

    public ConfigSnapshot latest() {
        return accepted.get();
    }

    public Throwable error() {
        return error.get();
    }

    @Override
    public void close() {
        try {
            requests.onCompleted();
        } catch (RuntimeException ignored) {
            // stream already closed
        }
    }
}
