package io.meshfed.controller.stream;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.meshfed.api.config.SnapshotBytes;
import io.meshfed.api.v1.ConfigSnapshot;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;

/**
 * A snapshot serialised once for every subscriber of a member and network, plus the few fields that differ per push
 * (nonce, subscriber). Protobuf merges concatenated messages, so the wire form is the shared bytes followed by the
 * small per-push message: subscribers parse one ordinary {@link ConfigSnapshot}, and the controller never
 * re-serialises the large part.
 */
record PreparedSnapshot(ConfigSnapshot content, byte[] bytes, SnapshotBytes.Layout layout) {
    /** A snapshot (or delta) whose bytes no later snapshot reuses. */
    static PreparedSnapshot of(ConfigSnapshot content) {
        return new PreparedSnapshot(content, content.toByteArray(), null);
    }

    /**
     * The snapshot of {@code unversioned} (version, nonce, subscriber and delta blank) with its version, serialised
     * once: the version is the hash of those bytes, and its field follows them (a parser merges it in). The bytes of
     * every element it shares with {@code earlier} (null: none) are copied from there, not serialised again.
     */
    static PreparedSnapshot versioned(ConfigSnapshot unversioned, PreparedSnapshot earlier) {
        int room = ConfigSnapshot.newBuilder().setVersion("0".repeat(24)).build().getSerializedSize();
        SnapshotBytes.Serialised content = SnapshotBytes.of(unversioned, earlier == null ? null : earlier.layout(),
                room);
        int length = content.bytes().length - room;
        String version = io.meshfed.api.config.ConfigVersion.ofContent(content.bytes(), length);
        byte[] tail = ConfigSnapshot.newBuilder().setVersion(version).build().toByteArray();
        if (tail.length != room) {
            throw new IllegalStateException("a version of " + version.length() + " characters");
        }
        System.arraycopy(tail, 0, content.bytes(), length, room);
        return new PreparedSnapshot(unversioned.toBuilder().setVersion(version).build(), content.bytes(),
                content.layout());
    }

    String version() {
        return content.getVersion();
    }

    long bundleVersion() {
        return content.getBundles().getVersion();
    }

    /** One push of a prepared snapshot. */
    record Push(PreparedSnapshot snapshot, byte[] tail) {
        static Push of(PreparedSnapshot snapshot, String nonce, String subscriber) {
            return new Push(snapshot, ConfigSnapshot.newBuilder().setNonce(nonce).setSubscriber(subscriber).build()
                    .toByteArray());
        }
    }

    /** Writes a push as its two byte arrays; the server never parses pushes. */
    static final class Marshaller implements MethodDescriptor.Marshaller<Push> {
        @Override
        public InputStream stream(Push push) {
            return new Stream(push);
        }

        @Override
        public Push parse(InputStream stream) {
            throw new UnsupportedOperationException("the controller only sends config snapshots");
        }
    }

    /** The concatenation, with its length known so gRPC frames it without copying it into a buffer first. */
    private static final class Stream extends SequenceInputStream implements KnownLength {
        private int remaining;

        Stream(Push push) {
            super(new ByteArrayInputStream(push.snapshot().bytes()), new ByteArrayInputStream(push.tail()));
            this.remaining = push.snapshot().bytes().length + push.tail().length;
        }

        @Override
        public int available() {
            return remaining;
        }

        @Override
        public int read() throws java.io.IOException {
            int b = super.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws java.io.IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }
    }
}
