package io.meshfed.api.config;

import io.meshfed.api.v1.RejectedRoute;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A snapshot an edge gateway cannot apply because some of its routes do not load: the NACK names each of them
 * ({@code Nack.rejected_routes}), so that {@code meshfed route list} can show which route failed and why.
 */
public final class RoutesRejectedException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final transient List<RejectedRoute> rejected;

    /** At most this many routes travel in one NACK, each reason at most {@link #MAX_REASON} characters. */
    public static final int MAX_ROUTES = 100;
    public static final int MAX_REASON = 1024;

    public RoutesRejectedException(List<RejectedRoute> all) {
        this(bounded(all), all.size());
    }

    private RoutesRejectedException(List<RejectedRoute> kept, int total) {
        super(kept.stream().map(r -> "route " + r.getRouteId() + ": " + r.getReason())
                .collect(Collectors.joining("; ")) + (total > kept.size() ? "; and " + (total - kept.size())
                        + " more route(s)" : ""));
        this.rejected = kept;
    }

    /** The first {@link #MAX_ROUTES}, reasons cut: a NACK must stay far below the stream's message limit. */
    private static List<RejectedRoute> bounded(List<RejectedRoute> all) {
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no rejected route");
        }
        return all.stream().limit(MAX_ROUTES).map(r -> r.getReason().length() <= MAX_REASON ? r
                : r.toBuilder().setReason(r.getReason().substring(0, MAX_REASON) + "…").build()).toList();
    }

    public List<RejectedRoute> rejected() {
        return rejected;
    }
}
