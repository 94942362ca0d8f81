package io.meshfed.cli.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.api.v1.RouteArg;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.cli.context.CliException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A routes file as Spring Cloud Gateway's reference documentation writes routes, read into the API's routes. */
class RouteFileTest {
    @TempDir
    Path dir;

    private RouteSet read(String yaml) throws Exception {
        return RouteFile.read(Files.writeString(dir.resolve("routes.yaml"), yaml));
    }

    @Test
    void theReferenceRetryExampleKeepsItsNestedBackoffAndListsAsBindableKeys() throws Exception {
        // The Retry example of the Spring Cloud Gateway reference, with a route id and no predicates as it allows.
        RouteSet set = read("""
                routes:
                  - id: retry_test
                    uri: lb://hello.demo
                    filters:
                      - name: Retry
                        args:
                          retries: 3
                          statuses: BAD_GATEWAY
                          methods: GET,POST
                          backoff:
                            firstBackoff: 10ms
                            maxBackoff: 50ms
                            factor: 2
                            basedOnPreviousValue: false
                          series:
                            - SERVER_ERROR
                """);
        var route = set.getRoutes(0);
        assertThat(route.getId()).isEqualTo("retry_test");
        assertThat(route.getPredicatesCount()).isZero();
        assertThat(route.getFilters(0).getArgsList()).extracting(RouteArg::getKey, RouteArg::getValue)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("retries", "3"),
                        org.assertj.core.groups.Tuple.tuple("statuses", "BAD_GATEWAY"),
                        org.assertj.core.groups.Tuple.tuple("methods", "GET,POST"),
                        org.assertj.core.groups.Tuple.tuple("backoff.firstBackoff", "10ms"),
                        org.assertj.core.groups.Tuple.tuple("backoff.maxBackoff", "50ms"),
                        org.assertj.core.groups.Tuple.tuple("backoff.factor", "2"),
                        org.assertj.core.groups.Tuple.tuple("backoff.basedOnPreviousValue", "false"),
                        org.assertj.core.groups.Tuple.tuple("series[0]", "SERVER_ERROR"));
    }

    @Test
    void argumentsNestedTooDeepAreRefusedNamingWhere() {
        assertThatThrownBy(() -> read("""
                routes:
                  - id: deep
                    uri: lb://hello.demo
                    filters:
                      - name: Retry
                        args:
                          a: {b: {c: {d: {e: {f: 1}}}}}
                """)).isInstanceOf(CliException.class).hasMessageContaining("routes[0].filters[0].args: argument"
                        + " a.b.c.d.e.f nests deeper than 4 levels");
    }
}
