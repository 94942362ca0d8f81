package io.meshfed.controller.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.Nack;
import io.meshfed.api.v1.RejectedRoute;
import io.meshfed.trust.SpiffeId;
import org.junit.jupiter.api.Test;

/**
 * A NACK is untrusted input: what the controller keeps of it (and shows in {@code meshfed status} and
 * {@code meshfed route list}) is bounded, holds no control character, and names routes only when an edge gateway
 * sent it.
 */
class NackReportTest {
    private static final SpiffeId EDGE = SpiffeId.parse("spiffe://west.acme.mesh/meshfed/edge/edge-1");
    private static final SpiffeId AGENT = SpiffeId.parse("spiffe://west.acme.mesh/ns/demo/vm/vm-1");

    private static RejectedRoute rejected(String id, String reason) {
        return RejectedRoute.newBuilder().setRouteId(id).setReason(reason).build();
    }

    @Test
    void anEdgeGatewaysRejectedRoutesAreKeptAndAnyOtherSubscribersAreNot() {
        Nack nack = Nack.newBuilder().setReason("route broken: no filter named X")
                .addRejectedRoutes(rejected("broken", "no filter named X")).build();
        assertThat(NackReport.of(EDGE, nack).rejectedRoutes()).containsExactly(rejected("broken", "no filter named X"));
        assertThat(NackReport.of(AGENT, nack).rejectedRoutes()).as("an agent has no routes to reject").isEmpty();
        assertThat(NackReport.of(AGENT, nack).reason()).isEqualTo("route broken: no filter named X");
    }

    @Test
    void aHugeOrHostileNackIsCutAndItsControlCharactersCannotReachATerminal() {
        Nack.Builder nack = Nack.newBuilder().setReason("\u001b[2J\u001b]0;owned\u0007" + "x".repeat(10_000));
        for (int i = 0; i < 1000; i++) {
            nack.addRejectedRoutes(rejected("r" + i, "line\nbreak\r\u001b[31m" + "y".repeat(5000)));
        }
        nack.addRejectedRoutes(0, rejected("a".repeat(300), "too long an id"));
        nack.addRejectedRoutes(0, rejected("", "no id"));
        NackReport report = NackReport.of(EDGE, nack.build());

        assertThat(report.reason()).startsWith("?[2J?]0;owned?xxx").hasSizeLessThan(NackReport.MAX_REASON + 40)
                .endsWith("more)").doesNotContain("\u001b");
        assertThat(report.rejectedRoutes()).hasSize(NackReport.MAX_ROUTES);
        assertThat(report.rejectedRoutes().get(0).getRouteId()).as("ids no route may have are dropped")
                .isEqualTo("r0");
        assertThat(report.rejectedRoutes()).allSatisfy(r -> assertThat(r.getReason())
                .startsWith("line?break??[31m").hasSizeLessThan(NackReport.MAX_ROUTE_REASON + 40)
                .doesNotContain("\n", "\r", "\u001b"));
    }
}
