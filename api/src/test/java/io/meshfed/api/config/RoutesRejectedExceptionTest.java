package io.meshfed.api.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.RejectedRoute;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An edge's NACK stays far below the stream's message limit, however many routes fail and however long the reasons. */
class RoutesRejectedExceptionTest {
    @Test
    void atMostAHundredRoutesWithReasonsOfAKibibyteTravelAndTheRestAreCounted() {
        List<RejectedRoute> all = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            all.add(RejectedRoute.newBuilder().setRouteId("r" + i).setReason("x".repeat(5000)).build());
        }
        RoutesRejectedException e = new RoutesRejectedException(all);
        assertThat(e.rejected()).hasSize(RoutesRejectedException.MAX_ROUTES);
        assertThat(e.rejected()).allSatisfy(r -> assertThat(r.getReason()).hasSize(RoutesRejectedException.MAX_REASON
                + 1));
        assertThat(e.getMessage()).startsWith("route r0: xxx").endsWith("; and 50 more route(s)")
                .hasSizeLessThan(110 * 1024);
    }

    @Test
    void oneRouteIsNamedWithItsReason() {
        RoutesRejectedException e = new RoutesRejectedException(List.of(RejectedRoute.newBuilder().setRouteId("orders")
                .setReason("no filter named Retri").build()));
        assertThat(e.getMessage()).isEqualTo("route orders: no filter named Retri");
    }
}
