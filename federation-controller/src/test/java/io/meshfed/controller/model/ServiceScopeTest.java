package io.meshfed.controller.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What an agent's join token lets it register. */
class ServiceScopeTest {
    @Test
    void namedServicesAllowExactlyThoseNames() {
        ServiceScope scope = new ServiceScope("demo", List.of("hello.demo", "api.demo"));

        assertThat(scope.allows("hello", "demo")).isTrue();
        assertThat(scope.allows("api", "demo")).isTrue();
        assertThat(scope.allows("echo", "demo")).as("another service of the same namespace").isFalse();
        assertThat(scope.allows("hello", "prod")).as("the same name in another namespace").isFalse();
        assertThat(scope.allows("hello.demo", "")).isFalse();
        assertThat(scope).hasToString("hello.demo, api.demo");
    }

    @Test
    void aNamespaceScopeAllowsAnyServiceOfThatNamespaceOnly() {
        ServiceScope scope = new ServiceScope("demo", List.of());

        assertThat(scope.allows("anything", "demo")).isTrue();
        assertThat(scope.allows("anything", "demo2")).isFalse();
        assertThat(scope.allows("anything", "")).isFalse();
        assertThat(scope).hasToString("any service of namespace demo");
    }

    @Test
    void aStoredScopeReadsBackUnchanged() {
        ServiceScope scope = new ServiceScope("demo", List.of("hello.demo"));
        IdentityRecord record = new IdentityRecord("spiffe://east.acme.mesh/ns/demo/vm/vm-1", "east", "ROLE_AGENT",
                scope, 1, 0);

        IdentityRecord read = Records.fromJson(new io.meshfed.controller.store.Resource("Identity", record.spiffeId(),
                Records.toJson(record), 1, 1), IdentityRecord.class);

        assertThat(read).isEqualTo(record);
        assertThat(read.scope().allows("hello", "demo")).isTrue();
    }
}
