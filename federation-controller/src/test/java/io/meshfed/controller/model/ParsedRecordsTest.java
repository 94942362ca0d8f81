package io.meshfed.controller.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.controller.store.Resource;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Workload sets parsed once per stored JSON: reused while it is the same, parsed again the moment it differs. */
class ParsedRecordsTest {
    private static Resource set(String name, boolean healthy, long revision) {
        String json = Records.toJson(new WorkloadSetRecord("spiffe://m.acme.mesh/ns/a/vm/" + name, "m", "net",
                List.of(new WorkloadSetRecord.Workload("hello", "demo", "10.0.0.1", 8080, healthy, "", "10.0.0.1:15006"))));
        return new Resource(io.meshfed.controller.model.Kind.WORKLOADS.storeName(), name, json, revision, 1);
    }

    @Test
    void theSameJsonGivesTheSameRecordAndOtherJsonIsParsedAgain() {
        WorkloadSetRecord first = Records.fromJson(set("vm-parsed-1", true, 5), WorkloadSetRecord.class);
        // the same content at another revision (a copy of the string, as another read returns it) is not parsed again
        assertThat(Records.fromJson(set("vm-parsed-1", true, 9), WorkloadSetRecord.class)).isSameAs(first);
        WorkloadSetRecord changed = Records.fromJson(set("vm-parsed-1", false, 10), WorkloadSetRecord.class);
        assertThat(changed.workloads().get(0).healthy()).isFalse();
        assertThat(Records.fromJson(set("vm-parsed-1", true, 11), WorkloadSetRecord.class)).isNotSameAs(first)
                .isEqualTo(first);
    }

    @Test
    void unreadableJsonIsRefusedEveryTimeAndNeverRemembered() {
        Resource broken = new Resource(Kind.WORKLOADS.storeName(), "vm-broken", "{\"agent\": ", 3, 1);
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> Records.fromJson(broken, WorkloadSetRecord.class))
                    .hasMessageContaining("stored WorkloadSet 'vm-broken' is not readable");
        }
    }

    @Test
    void pastItsBoundItStartsAfresh() {
        ParsedRecords<String> cache = new ParsedRecords<>(String.class, 2);
        int[] parses = {0};
        java.util.function.Function<Resource, String> parser = r -> {
            parses[0]++;
            return r.json();
        };
        for (String name : List.of("a", "b", "a", "b")) {
            cache.parse(new Resource("K", name, name + "-json", 1, 1), parser);
        }
        assertThat(parses[0]).isEqualTo(2);
        cache.parse(new Resource("K", "c", "c-json", 1, 1), parser); // third name: the cache is cleared
        cache.parse(new Resource("K", "a", "a-json", 1, 1), parser);
        assertThat(parses[0]).isEqualTo(4);
    }
}
