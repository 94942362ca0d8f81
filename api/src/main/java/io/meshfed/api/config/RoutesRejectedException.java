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

    public RoutesRejectedException(List<RejectedRoute> rejected) {
        super(rejected.stream().map(r -> "route " + r.getRouteId() + ": " + r.getReason())
                .collect(Collectors.joining("; ")));
        if (rejected.isEmpty()) {
            throw new IllegalArgumentException("no rejected route");
        }
        this.rejected = List.copyOf(rejected);
    }

    public List<RejectedRoute> rejected() {
        return rejected;
    }
}
