package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Passive health and load of every upstream a proxy has dialed. A failed connect or handshake ejects the upstream
 * for a backoff that doubles with each consecutive failure (from {@code baseEjection} up to {@code maxEjection});
 * one success clears it. Open connections are counted for least-connections balancing.
 */
public final class UpstreamHealth {
    private static final class State {
        int consecutiveFailures; // guarded by this
        Instant ejectedUntil = Instant.MIN; // guarded by this
        int active; // guarded by this
    }

    private final Clock clock;
    private final Duration baseEjection;
    private final Duration maxEjection;
    private final ConcurrentMap<String, State> states = new ConcurrentHashMap<>();

    public UpstreamHealth(Clock clock, Duration baseEjection, Duration maxEjection) {
        this.clock = requireNonNull(clock, "clock");
        this.baseEjection = requireNonNull(baseEjection, "baseEjection");
        this.maxEjection = requireNonNull(maxEjection, "maxEjection");
    }

    private State state(Upstream u) {
        return states.computeIfAbsent(u.key(), k -> new State());
    }

    /** Records a failed connect or handshake and returns how long the upstream is now ejected for. */
    public Duration failed(Upstream u) {
        State s = state(u);
        synchronized (s) {
            s.consecutiveFailures++;
            long factor = 1L << Math.min(s.consecutiveFailures - 1, 20);
            Duration ejection = baseEjection.multipliedBy(factor);
            if (ejection.compareTo(maxEjection) > 0) {
                ejection = maxEjection;
            }
            s.ejectedUntil = clock.instant().plus(ejection);
            return ejection;
        }
    }

    public void succeeded(Upstream u) {
        State s = state(u);
        synchronized (s) {
            s.consecutiveFailures = 0;
            s.ejectedUntil = Instant.MIN;
        }
    }

    public boolean ejected(Upstream u) {
        State s = states.get(u.key());
        if (s == null) {
            return false;
        }
        synchronized (s) {
            return clock.instant().isBefore(s.ejectedUntil);
        }
    }

    /** How many upstreams are ejected right now. */
    public int ejectedCount() {
        Instant now = clock.instant();
        int n = 0;
        for (State s : states.values()) {
            synchronized (s) {
                if (now.isBefore(s.ejectedUntil)) {
                    n++;
                }
            }
        }
        return n;
    }

    public void opened(Upstream u) {
        State s = state(u);
        synchronized (s) {
            s.active++;
        }
    }

    public void closed(Upstream u) {
        State s = state(u);
        synchronized (s) {
            s.active--;
        }
    }

    public int active(Upstream u) {
        State s = states.get(u.key());
        if (s == null) {
            return 0;
        }
        synchronized (s) {
            return s.active;
        }
    }

    /** Forgets upstreams that are no longer in any target and carry no connection. */
    public void retain(Set<String> keys) {
        states.entrySet().removeIf(e -> {
            synchronized (e.getValue()) {
                return !keys.contains(e.getKey()) && e.getValue().active == 0;
            }
        });
    }

    /**
     * The order in which to try the target's upstreams: tier by tier, the available ones in balancing order; then,
     * as a last resort when everything is ejected or fails, the ejected ones, soonest-back first. Weighted round
     * robin: of every {@code W} consecutive calls (W the tier's total weight), an upstream of weight w comes first in
     * w of them, in turn; the rest follow in tier order from there. Weighted least connections: fewest open
     * connections per unit of weight first, ties in that round-robin order.
     */
    public List<Upstream> order(Target target, Balancing balancing) {
        int start = target.cursor().getAndIncrement();
        List<Upstream> out = new ArrayList<>();
        List<Upstream> ejected = new ArrayList<>();
        for (Tier tier : target.tiers()) {
            List<Upstream> available = new ArrayList<>();
            List<Integer> weights = new ArrayList<>();
            List<Upstream> all = tier.upstreams();
            int first = firstByWeight(tier, start);
            for (int i = 0; i < all.size(); i++) {
                int index = (first + i) % all.size();
                Upstream u = all.get(index);
                if (ejected(u)) {
                    ejected.add(u);
                } else {
                    available.add(u);
                    weights.add(tier.weight(index));
                }
            }
            if (balancing == Balancing.LEAST_CONNECTIONS) {
                available = byLoad(available, weights);
            }
            out.addAll(available);
        }
        ejected.sort(Comparator.comparing(this::ejectedUntil));
        out.addAll(ejected);
        return out;
    }

    /** The index of the upstream that comes first at {@code cursor}: the weights cut each W calls into turns. */
    private static int firstByWeight(Tier tier, int cursor) {
        int n = tier.upstreams().size();
        if (n == 0) {
            return 0;
        }
        int slot = Math.floorMod(cursor, tier.totalWeight());
        for (int i = 0; i < n; i++) {
            slot -= tier.weight(i);
            if (slot < 0) {
                return i;
            }
        }
        return n - 1; // not reached
    }

    /** Sorted by open connections per unit of weight, stable (ties keep their order). */
    private List<Upstream> byLoad(List<Upstream> upstreams, List<Integer> weights) {
        List<Integer> order = new ArrayList<>();
        int[] active = new int[upstreams.size()];
        for (int i = 0; i < upstreams.size(); i++) {
            order.add(i);
            active[i] = active(upstreams.get(i));
        }
        // a/wa < b/wb  <=>  a*wb < b*wa (weights are positive)
        order.sort((x, y) -> Long.compare((long) active[x] * weights.get(y), (long) active[y] * weights.get(x)));
        return order.stream().map(upstreams::get).toList();
    }

    private Instant ejectedUntil(Upstream u) {
        State s = state(u);
        synchronized (s) {
            return s.ejectedUntil;
        }
    }
}
