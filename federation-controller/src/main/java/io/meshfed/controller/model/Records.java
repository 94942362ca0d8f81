package io.meshfed.controller.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.controller.store.StoreTransaction;
import java.util.List;
import java.util.Optional;

/** Typed access to the store: records to JSON and back. Unknown JSON fields are tolerated (newer writers). */
public final class Records {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Workload sets are immutable records, read whole far more often than they change. */
    private static final ParsedRecords<WorkloadSetRecord> WORKLOAD_SETS = new ParsedRecords<>(WorkloadSetRecord.class,
            200_000);

    private Records() {}

    public static String toJson(Object record) {
        try {
            return MAPPER.writeValueAsString(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + record + ": " + e.getOriginalMessage(), e);
        }
    }

    public static <T> T fromJson(Resource resource, Class<T> type) {
        if (type == WorkloadSetRecord.class && resource.kind().equals(Kind.WORKLOADS.storeName())) {
            return type.cast(WORKLOAD_SETS.parse(resource, r -> parse(r, WorkloadSetRecord.class)));
        }
        return parse(resource, type);
    }

    private static <T> T parse(Resource resource, Class<T> type) {
        try {
            return MAPPER.readValue(resource.json(), type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored " + resource.kind() + " '" + resource.name()
                    + "' is not readable: " + e.getOriginalMessage(), e);
        }
    }

    public static <T> Optional<T> get(StoreReader store, Kind kind, String name, Class<T> type) {
        return store.get(kind.storeName(), name).map(r -> fromJson(r, type));
    }

    public static <T> List<T> list(StoreReader store, Kind kind, Class<T> type) {
        return store.list(kind.storeName()).stream().map(r -> fromJson(r, type)).toList();
    }

    public static Resource put(StoreTransaction tx, Kind kind, String name, Object record, long expectedRevision) {
        if (!kind.type().isInstance(record)) {
            throw new IllegalArgumentException(kind + " holds " + kind.type().getSimpleName() + ", not "
                    + record.getClass().getSimpleName());
        }
        return tx.put(kind.storeName(), name, toJson(record), expectedRevision);
    }
}
