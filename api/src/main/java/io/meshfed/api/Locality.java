package io.meshfed.api;

/**
 * Where an endpoint runs, {@code region/zone} as agents report it (agent.yaml's {@code locality}) and connectors read
 * it from EndpointSlices ({@code region/zone}, or only {@code region}); empty when unknown. The one place that
 * reads that form and decides how near two localities are, for the controller's ordering of networks and the
 * proxies' tiers within their own network. Anything that does not parse counts as unknown, never as an error: a
 * locality only orders choices, it grants nothing.
 */
public record Locality(String region, String zone) {
    /** Unknown: nearer to nothing. */
    public static final Locality UNKNOWN = new Locality("", "");

    /** How near another locality is, nearest first. */
    public enum Proximity { SAME_ZONE, SAME_REGION, OTHER }

    public Locality {
        region = region == null ? "" : region;
        zone = zone == null || region.isEmpty() ? "" : zone;
    }

    /** Reads {@code region/zone} or {@code region}; empty, blank or malformed text is {@link #UNKNOWN}. */
    public static Locality parse(String text) {
        if (text == null || text.isBlank() || text.length() > 255) {
            return UNKNOWN;
        }
        String[] parts = text.strip().split("/", -1);
        if (parts.length > 2 || parts[0].isEmpty() || (parts.length == 2 && parts[1].isEmpty())) {
            return UNKNOWN;
        }
        return new Locality(parts[0], parts.length == 2 ? parts[1] : "");
    }

    public boolean known() {
        return !region.isEmpty();
    }

    /** How near {@code other} is to this locality: the same zone, the same region, or neither (or unknown). */
    public Proximity proximity(Locality other) {
        if (!known() || !region.equals(other.region)) {
            return Proximity.OTHER;
        }
        return !zone.isEmpty() && zone.equals(other.zone) ? Proximity.SAME_ZONE : Proximity.SAME_REGION;
    }

    @Override
    public String toString() {
        return zone.isEmpty() ? region : region + "/" + zone;
    }
}
