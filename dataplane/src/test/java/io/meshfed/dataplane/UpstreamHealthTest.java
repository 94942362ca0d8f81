package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.trust.testing.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UpstreamHealthTest {
    private final MutableClock clock = MutableClock.at("2026-11-22T10:00:00Z");
    private final UpstreamHealth health = new UpstreamHealth(clock, Duration.ofSeconds(2), Duration.ofSeconds(10));
    private final Upstream a = Upstream.plain("east", "127.0.0.1", 1001);
    private final Upstream b = Upstream.plain("east", "127.0.0.1", 1002);
    private final Upstream c = Upstream.plain("west", "127.0.0.2", 1003);

    private Target target() {
        return new Target("hello.demo:8080", List.of(new Tier("east", List.of(a, b)), new Tier("west", List.of(c))),
                Set.of());
    }

    @Test
    void ejectionDoublesWithEachConsecutiveFailureUpToTheMaximumAndOneSuccessClearsIt() {
        assertThat(health.failed(a)).isEqualTo(Duration.ofSeconds(2));
        assertThat(health.failed(a)).isEqualTo(Duration.ofSeconds(4));
        assertThat(health.failed(a)).isEqualTo(Duration.ofSeconds(8));
        assertThat(health.failed(a)).isEqualTo(Duration.ofSeconds(10));
        assertThat(health.ejected(a)).isTrue();
        clock.advance(Duration.ofSeconds(11));
        assertThat(health.ejected(a)).isFalse();
        health.succeeded(a);
        assertThat(health.failed(a)).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void roundRobinRotatesWithinTheOwnNetworkBeforeTouchingTheNext() {
        Target t = target();
        assertThat(health.order(t, Balancing.ROUND_ROBIN)).containsExactly(a, b, c);
        assertThat(health.order(t, Balancing.ROUND_ROBIN)).containsExactly(b, a, c);
        assertThat(health.order(t, Balancing.ROUND_ROBIN)).containsExactly(a, b, c);
    }

    @Test
    void ejectedUpstreamsFallBehindEveryTierAndComeBackWhenTheBackoffEnds() {
        Target t = target();
        health.failed(a);
        health.failed(b);
        health.failed(b);
        // Own network all ejected: fail over to west; the ejected ones stay as a last resort, soonest back first.
        assertThat(health.order(t, Balancing.ROUND_ROBIN)).containsExactly(c, a, b);
        assertThat(health.ejectedCount()).isEqualTo(2);
        clock.advance(Duration.ofSeconds(3));
        assertThat(health.order(t, Balancing.ROUND_ROBIN)).containsExactly(a, c, b);
    }

    @Test
    void leastConnectionsPicksTheLeastLoadedOfTheTier() {
        Target t = target();
        health.opened(a);
        health.opened(a);
        health.opened(b);
        assertThat(health.order(t, Balancing.LEAST_CONNECTIONS)).containsExactly(b, a, c);
        health.closed(a);
        health.closed(a);
        assertThat(health.order(t, Balancing.LEAST_CONNECTIONS).get(0)).isEqualTo(a);
        // Even an idle upstream of another network does not beat the own network's busiest.
        health.opened(a);
        health.opened(b);
        assertThat(health.order(t, Balancing.LEAST_CONNECTIONS).get(2)).isEqualTo(c);
    }

    @Test
    void weightedRoundRobinGivesEachUpstreamItsShareInTurn() {
        Target t = new Target("hello.demo:8080", List.of(new Tier("east", List.of(a, b), List.of(3, 1)),
                new Tier("west", List.of(c))), Set.of());
        java.util.Map<Upstream, Integer> first = new java.util.HashMap<>();
        List<Upstream> turns = new java.util.ArrayList<>();
        for (int i = 0; i < 400; i++) {
            List<Upstream> order = health.order(t, Balancing.ROUND_ROBIN);
            assertThat(order).hasSize(3).endsWith(c); // the other network stays behind the whole own tier
            first.merge(order.get(0), 1, Integer::sum);
            if (i < 8) {
                turns.add(order.get(0));
            }
        }
        assertThat(first).containsOnly(java.util.Map.entry(a, 300), java.util.Map.entry(b, 100));
        assertThat(turns).containsExactly(a, a, a, b, a, a, a, b); // deterministic
    }

    @Test
    void weightedLeastConnectionsCountsConnectionsPerUnitOfWeight() {
        Target t = new Target("hello.demo:8080", List.of(new Tier("east", List.of(a, b), List.of(3, 1))), Set.of());
        health.opened(a);
        health.opened(a); // 2 connections at weight 3
        health.opened(b); // 1 at weight 1: busier for its share
        assertThat(health.order(t, Balancing.LEAST_CONNECTIONS)).containsExactly(a, b);
        health.opened(a);
        health.opened(a); // 4 at weight 3 > 1 at weight 1
        assertThat(health.order(t, Balancing.LEAST_CONNECTIONS)).containsExactly(b, a);
    }

    @Test
    void aTierRefusesWeightsThatDoNotMatchItsUpstreams() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Tier("east", List.of(a, b), List.of(1)))
                .hasMessageContaining("2 upstreams but 1 weights");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Tier("east", List.of(a), List.of(0)))
                .hasMessageContaining("weight 0 is below 1");
    }

    @Test
    void retainForgetsUpstreamsNoLongerRoutedUnlessTheyStillCarryConnections() {
        health.failed(a);
        health.opened(b);
        health.failed(b);
        health.retain(Set.of());
        assertThat(health.ejected(a)).isFalse();
        assertThat(health.ejected(b)).isTrue();
    }

    @Test
    void balancingPoliciesParseByTheirFlagNames() {
        assertThat(Balancing.parse("round-robin")).isEqualTo(Balancing.ROUND_ROBIN);
        assertThat(Balancing.parse("least-connections")).isEqualTo(Balancing.LEAST_CONNECTIONS);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Balancing.parse("random"))
                .hasMessageContaining("'random' is not a balancing policy");
    }
}
