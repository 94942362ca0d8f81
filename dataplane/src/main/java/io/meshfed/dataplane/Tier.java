package io.meshfed.dataplane;

import java.util.Collections;
import java.util.List;

/**
 * The upstreams of one network for one service port, each with its weight (its share of the connections the tier
 * takes, at least 1). Tiers are tried in order: the subscriber's own network first (split, when the proxy knows its
 * own locality, into its own zone, its own region and the rest), then the other networks in the snapshot's order; the
 * next tier is used only when every upstream of the earlier ones is ejected or fails.
 */
public record Tier(String network, List<Upstream> upstreams, List<Integer> weights) {
    public Tier {
        upstreams = List.copyOf(upstreams);
        weights = List.copyOf(weights);
        if (weights.size() != upstreams.size()) {
            throw new IllegalArgumentException("tier " + network + ": " + upstreams.size() + " upstreams but "
                    + weights.size() + " weights");
        }
        for (int w : weights) {
            if (w < 1) {
                throw new IllegalArgumentException("tier " + network + ": weight " + w + " is below 1");
            }
        }
    }

    /** Every upstream with weight 1. */
    public Tier(String network, List<Upstream> upstreams) {
        this(network, upstreams, Collections.nCopies(upstreams.size(), 1));
    }

    /** The weight of the upstream at {@code index}. */
    public int weight(int index) {
        return weights.get(index);
    }

    /** The sum of the weights. */
    public int totalWeight() {
        int sum = 0;
        for (int w : weights) {
            sum += w;
        }
        return sum;
    }
}
