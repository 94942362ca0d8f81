package io.meshfed.controller.model;

import io.meshfed.controller.store.Resource;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Parsed records of one immutable record type, reused while a resource's stored JSON stays the same: the catalog's
 * workload sets are read whole by every report's checks and every catalog view, and parsing their JSON again each
 * time cost most of a change's work at 100,000 endpoints. A hit needs the very same JSON (compared in full, which is
 * far cheaper than parsing it), so whatever store or revision it came from, what is returned is what parsing would
 * give. Bounded: past {@code maxEntries} names it starts afresh. Thread-safe.
 */
final class ParsedRecords<T> {
    private record Parsed(String json, Object record) {}

    private final Class<T> type;
    private final int maxEntries;
    private final ConcurrentHashMap<String, Parsed> byName = new ConcurrentHashMap<>();

    ParsedRecords(Class<T> type, int maxEntries) {
        this.type = type;
        this.maxEntries = maxEntries;
    }

    T parse(Resource resource, Function<Resource, T> parser) {
        Parsed parsed = byName.get(resource.name());
        if (parsed != null && parsed.json().equals(resource.json())) {
            return type.cast(parsed.record());
        }
        T record = parser.apply(resource);
        if (byName.size() >= maxEntries) {
            byName.clear();
        }
        byName.put(resource.name(), new Parsed(resource.json(), record));
        return record;
    }
}
