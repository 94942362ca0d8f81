package io.meshfed.api.config;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.meshfed.api.v1.ConfigSnapshot;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A snapshot's bytes exactly as {@link ConfigSnapshot#toByteArray()} gives them (fields in number order, each
 * repeated element as its tag, length and message), made by copying the bytes of every per-service element (service,
 * outbound listener, authorization policy) that is the very same message as one of an earlier snapshot's, and
 * serialising only the others. A snapshot rebuilt for the services that changed (by the controller, or by a subscriber
 * applying a delta) shares every other element with its predecessor, so at 100,000 endpoints a change costs the
 * changed services' serialisation, not 4 MB of it.
 */
public final class SnapshotBytes {
    private static final Set<Integer> PER_SERVICE = Set.of(ConfigSnapshot.SERVICES_FIELD_NUMBER,
            ConfigSnapshot.OUTBOUND_FIELD_NUMBER, ConfigSnapshot.AUTHORIZATION_FIELD_NUMBER);
    private static final List<FieldDescriptor> FIELDS = ConfigSnapshot.getDescriptor().getFields().stream()
            .sorted(java.util.Comparator.comparingInt(FieldDescriptor::getNumber)).toList();

    /** Where each per-service element's bytes lie in a snapshot's bytes: offset and length. */
    public static final class Layout {
        private final Map<Message, long[]> at;
        private final byte[] bytes;

        private Layout(Map<Message, long[]> at, byte[] bytes) {
            this.at = at;
            this.bytes = bytes;
        }
    }

    /** The bytes, the layout to make a later snapshot's bytes from, and how many elements were copied. */
    public record Serialised(byte[] bytes, Layout layout, int reused) {}

    private SnapshotBytes() {}

    /**
     * The bytes of {@code snapshot}, reusing those of {@code earlier}'s identical elements (null: none).
     *
     * @param trailing room left at the end (the version's field goes there)
     */
    public static Serialised of(ConfigSnapshot snapshot, Layout earlier, int trailing) {
        Buffer out = new Buffer(earlier == null ? 1024 : earlier.bytes.length + 1024);
        Map<Message, long[]> at = new IdentityHashMap<>();
        int reused = 0;
        for (FieldDescriptor field : FIELDS) {
            if (PER_SERVICE.contains(field.getNumber())) {
                int count = snapshot.getRepeatedFieldCount(field);
                for (int i = 0; i < count; i++) {
                    Message element = (Message) snapshot.getRepeatedField(field, i);
                    long[] where = earlier == null ? null : earlier.at.get(element);
                    int start = out.size;
                    if (where != null) {
                        out.write(earlier.bytes, (int) where[0], (int) where[1]);
                        reused++;
                    } else {
                        out.write(ConfigSnapshot.newBuilder().addRepeatedField(field, element).build().toByteArray());
                    }
                    at.put(element, new long[] {start, out.size - start});
                }
            } else if (field.isRepeated() ? snapshot.getRepeatedFieldCount(field) > 0 : snapshot.hasField(field)) {
                out.write(ConfigSnapshot.newBuilder().setField(field, snapshot.getField(field)).build().toByteArray());
            }
        }
        byte[] bytes = Arrays.copyOf(out.bytes, out.size + trailing);
        return new Serialised(bytes, new Layout(at, bytes), reused);
    }

    private static final class Buffer {
        byte[] bytes;
        int size;

        Buffer(int capacity) {
            bytes = new byte[capacity];
        }

        void write(byte[] b) {
            write(b, 0, b.length);
        }

        void write(byte[] b, int offset, int length) {
            if (size + length > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + length));
            }
            System.arraycopy(b, offset, bytes, size, length);
            size += length;
        }
    }
}
