package io.meshfed.dataplane;

import java.util.List;

/**
 * The upstreams of one network for one service port. Tiers are tried in order (the subscriber's own network
 * first); the next tier is used only when every upstream of the earlier ones is ejected or fails.
 */
public record Tier(String network, List<Upstream> upstreams) {
    public Tier {
        upstreams = List.copyOf(upstreams);
    }
}
