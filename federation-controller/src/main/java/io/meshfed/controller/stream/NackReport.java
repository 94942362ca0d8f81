package io.meshfed.controller.stream;

import io.meshfed.api.v1.Nack;
import io.meshfed.api.v1.RejectedRoute;
import io.meshfed.controller.text.ReportedText;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import java.util.ArrayList;
import java.util.List;

/**
 * What the controller keeps of a subscriber's NACK, which is untrusted input: the reason cut to
 * {@value #MAX_REASON} characters (control characters, which could drive an admin's terminal, as '?'), and, from an edge gateway only, at most {@value #MAX_ROUTES} rejected routes
 * with ids a route may have and reasons cut to {@value #MAX_ROUTE_REASON} characters. Only routes that exist are
 * ever shown ({@code RouteOperations}), so a NACK cannot make up rows either.
 */
record NackReport(String reason, List<RejectedRoute> rejectedRoutes) {
    static final int MAX_REASON = 2048;
    static final int MAX_ROUTES = 100;
    static final int MAX_ROUTE_REASON = 1024;
    private static final int MAX_ROUTE_ID = 253;

    static NackReport of(SpiffeId subscriber, Nack nack) {
        List<RejectedRoute> routes = new ArrayList<>();
        if (MeshfedIds.hasRole(subscriber, MeshfedIds.Role.EDGE)) {
            for (RejectedRoute r : nack.getRejectedRoutesList()) {
                if (routes.size() == MAX_ROUTES) {
                    break;
                }
                if (!r.getRouteId().isEmpty() && r.getRouteId().length() <= MAX_ROUTE_ID) {
                    routes.add(r.toBuilder().setReason(cut(r.getReason(), MAX_ROUTE_REASON)).build());
                }
            }
        }
        return new NackReport(cut(nack.getReason(), MAX_REASON), List.copyOf(routes));
    }

    /** At most {@code max} characters, control characters (a terminal's escapes, line breaks) as '?'. */
    private static String cut(String text, int max) {
        int beyond = ReportedText.beyond(text, max);
        return ReportedText.printable(text, max) + (beyond == 0 ? "" : "… (" + beyond + " more)");
    }
}
