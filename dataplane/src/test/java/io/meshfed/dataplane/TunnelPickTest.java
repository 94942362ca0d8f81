package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** {@link TunnelPick}: same-loop preference, growth at {@link TunnelPick#GROW_AT}, the pool cap, draining, fallback. */
class TunnelPickTest {
    private static final Executor A = r -> { };
    private static final Executor B = r -> { };
    private static final Executor C = r -> { };

    /** A connection as the pool holds it. */
    private static final class Conn implements TunnelPick.Candidate {
        final String name;
        final Executor loop;
        int load;
        boolean draining;

        Conn(String name, Executor loop, int load) {
            this.name = name;
            this.loop = loop;
            this.load = load;
        }

        @Override
        public Executor loop() {
            return loop;
        }

        @Override
        public int load() {
            return load;
        }

        @Override
        public boolean draining() {
            return draining;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final TunnelPick defaults = TunnelPick.of(TunnelSettings.defaults()); // pool 4, 100 streams each

    @Test
    void anEmptyPoolOpensAConnectionOnTheDownstreamsLoop() {
        assertThat(defaults.choose(List.<Conn>of(), A)).isEmpty();
    }

    @Test
    void aConnectionOnTheDownstreamsLoopIsPreferredToALessLoadedOneElsewhere() {
        Conn a = new Conn("a", A, 1);
        Conn b = new Conn("b", B, 0);
        assertThat(defaults.choose(List.of(b, a), A)).contains(a);
        assertThat(defaults.choose(List.of(b, a), B)).contains(b);
    }

    @Test
    void aLoopWhoseConnectionsCarryGrowAtStreamsEachGrowsOneWhileThePoolAllows() {
        Conn a1 = new Conn("a1", A, TunnelPick.GROW_AT);
        Conn b = new Conn("b", B, 0);
        assertThat(defaults.choose(List.of(a1, b), A)).as("a new connection on A, not b on B").isEmpty();
        Conn a2 = new Conn("a2", A, TunnelPick.GROW_AT - 1);
        assertThat(defaults.choose(List.of(a1, a2, b), A)).contains(a2);
        a2.load = TunnelPick.GROW_AT;
        assertThat(defaults.choose(List.of(a1, a2, b), A)).isEmpty(); // 3 of 4
    }

    @Test
    void aLoopWithoutAConnectionOpensOneWhileThePoolAllows() {
        List<Conn> pool = List.of(new Conn("a", A, 0), new Conn("b", B, 0));
        assertThat(defaults.choose(pool, C)).isEmpty();
    }

    @Test
    void atThePoolSizeTheDownstreamsLoopKeepsItsConnectionUpToItsCapacity() {
        Conn a = new Conn("a", A, 30);
        List<Conn> pool = List.of(a, new Conn("b1", B, 5), new Conn("b2", B, 5), new Conn("c", C, 5));
        assertThat(defaults.choose(pool, A)).contains(a);
        a.load = 100; // full (streamsPerConnection)
        assertThat(defaults.choose(pool, A)).as("the least loaded overall").get().extracting(x -> x.loop)
                .isNotEqualTo(A);
    }

    @Test
    void atThePoolSizeADownstreamOnALoopWithoutAConnectionTakesTheLeastLoaded() {
        Conn least = new Conn("least", B, 3);
        List<Conn> pool = List.of(new Conn("a", A, 7), least, new Conn("b", B, 9), new Conn("a2", A, 4));
        Executor other = r -> { };
        assertThat(defaults.choose(pool, other)).contains(least);
    }

    @Test
    void onATieTheLeastLoadedOnTheDownstreamsLoopWins() {
        TunnelPick small = new TunnelPick(2, 4);
        Conn a = new Conn("a", A, 4);
        Conn b = new Conn("b", B, 4);
        assertThat(small.choose(List.of(b, a), A)).contains(a);
        assertThat(small.choose(List.of(a, b), B)).contains(b);
    }

    @Test
    void theCapIsThePoolSize() {
        TunnelPick one = new TunnelPick(1, 100);
        Conn a = new Conn("a", A, 50);
        assertThat(one.choose(List.of(a), B)).contains(a);
        assertThat(one.choose(List.of(a), A)).contains(a);
        a.load = 500; // over its capacity, and still the only one allowed
        assertThat(one.choose(List.of(a), A)).contains(a);
    }

    @Test
    void drainingConnectionsAreNeverPickedAndLeaveRoomInThePool() {
        Conn old = new Conn("old", A, 0);
        old.draining = true;
        assertThat(defaults.choose(List.of(old), A)).isEmpty();
        TunnelPick one = new TunnelPick(1, 100);
        assertThat(one.choose(List.of(old), A)).as("the draining one does not count").isEmpty();
        Conn fresh = new Conn("fresh", B, 9);
        assertThat(one.choose(List.of(old, fresh), A)).contains(fresh);
    }

    @Test
    void growthFollowsTheStreamsPerConnectionWhenThatIsSmaller() {
        TunnelPick perStream = new TunnelPick(3, 1);
        assertThat(perStream.growAt()).isEqualTo(1);
        List<Conn> pool = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Optional<Conn> chosen = perStream.choose(pool, A);
            assertThat(chosen).isEmpty();
            pool.add(new Conn("a" + i, A, 1));
        }
        assertThat(perStream.choose(pool, A)).get().extracting(c -> c.load).isEqualTo(1);
        assertThat(defaults.growAt()).isEqualTo(TunnelPick.GROW_AT);
    }

    @Test
    void badSizesAreRefusedNamingThem() {
        assertThatThrownBy(() -> new TunnelPick(0, 1)).hasMessage("poolSize must be at least 1, not 0");
        assertThatThrownBy(() -> new TunnelPick(1, 0)).hasMessage("streamsPerConnection must be at least 1, not 0");
    }
}
