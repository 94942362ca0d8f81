package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.ServiceSni;
import io.meshfed.trust.SpiffeId;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The registry of admitted connections: what admit keeps, what a recheck closes, what a close removes. */
class CallerConnectionsTest {
    private final ServiceSni hello = ServiceSni.parse("8080.hello.demo.svc.meshfed");
    private final SpiffeId cart = SpiffeId.parse("spiffe://west.meshfed/ns/shop/sa/cart");
    private final SpiffeId extra = SpiffeId.parse("spiffe://west-extra.meshfed/ns/demo/vm/vm-2");
    private final CallerConnections connections = new CallerConnections();
    private final Set<SpiffeId> denied = new HashSet<>();
    private final InboundPolicy policy = (service, caller) -> denied.contains(caller)
            ? CallerDecision.refuse(RefusalReason.UNAUTHORIZED, AuthzReason.POLICY_DENY)
            : CallerDecision.allow(AuthzReason.EXPORT);

    @Test
    void admitKeepsAnAllowedChannelAndForgetsARefusedOne() {
        EmbeddedChannel allowed = new EmbeddedChannel();
        EmbeddedChannel refused = new EmbeddedChannel();
        denied.add(extra);
        assertThat(connections.admit(hello, cart, allowed, policy).allowed()).isTrue();
        assertThat(connections.admit(hello, extra, refused, policy).reason()).isEqualTo(AuthzReason.POLICY_DENY);
        assertThat(connections.admitted()).extracting(CallerConnections.Admitted::channel).containsExactly(allowed);
        assertThat(connections.isAdmitted(refused)).isFalse();
    }

    @Test
    void aRecheckClosesExactlyTheConnectionsTheNewPolicyRefusesAndReturnsTheirDecisions() {
        EmbeddedChannel cartConnection = new EmbeddedChannel();
        EmbeddedChannel extraConnection = new EmbeddedChannel();
        connections.admit(hello, cart, cartConnection, policy);
        connections.admit(hello, extra, extraConnection, policy);
        assertThat(connections.recheck(policy)).isEmpty();

        denied.add(extra);
        assertThat(connections.recheck(policy)).extracting(CallerDecision::reason)
                .containsExactly(AuthzReason.POLICY_DENY);
        assertThat(extraConnection.isOpen()).isFalse();
        assertThat(cartConnection.isOpen()).isTrue();
        assertThat(connections.admitted()).extracting(CallerConnections.Admitted::caller).containsExactly(cart);
        assertThat(connections.recheck(policy)).as("closed once").isEmpty();
    }

    @Test
    void aStreamForwardedByAGatewayEndsWhenTheGatewayItselfIsDeniedOrRevokedNotOnlyWhenTheCallerIs() {
        SpiffeId gateway = SpiffeId.parse("spiffe://west.meshfed/meshfed/gateway/gw1");
        Set<SpiffeId> revoked = new HashSet<>();
        InboundPolicy withRevocation = (service, caller) -> revoked.contains(caller)
                ? CallerDecision.refuse(RefusalReason.REVOKED, AuthzReason.REVOKED) : policy.decide(service, caller);
        EmbeddedChannel forwarded = new EmbeddedChannel();
        EmbeddedChannel direct = new EmbeddedChannel();
        assertThat(connections.admit(hello, cart, java.util.Optional.of(gateway), forwarded, withRevocation)
                .allowed()).isTrue();
        connections.admit(hello, cart, direct, withRevocation);

        revoked.add(gateway);
        assertThat(connections.recheck(withRevocation)).extracting(CallerDecision::reason)
                .containsExactly(AuthzReason.REVOKED);
        assertThat(forwarded.isOpen()).as("the revoked gateway's stream for cart").isFalse();
        assertThat(direct.isOpen()).as("cart's own connection").isTrue();
        assertThat(connections.admit(hello, cart, java.util.Optional.of(gateway), new EmbeddedChannel(),
                withRevocation).reason()).isEqualTo(AuthzReason.REVOKED);

        revoked.clear();
        denied.add(gateway);
        assertThat(connections.admit(hello, cart, java.util.Optional.of(gateway), new EmbeddedChannel(),
                withRevocation).reason()).as("a deny naming the forwarder").isEqualTo(AuthzReason.POLICY_DENY);
    }

    @Test
    void aServiceWithoutUpstreamsIsHealthNotAuthorizationAndKeepsItsConnections() {
        EmbeddedChannel open = new EmbeddedChannel();
        connections.admit(hello, cart, open, policy);
        assertThat(connections.recheck((s, c) -> CallerDecision.refuse(RefusalReason.UNKNOWN_SERVICE,
                AuthzReason.UNKNOWN_SERVICE))).isEmpty();
        assertThat(open.isOpen()).isTrue();
        assertThat(connections.recheck((s, c) -> CallerDecision.refuse(RefusalReason.REVOKED, AuthzReason.REVOKED)))
                .hasSize(1);
        assertThat(open.isOpen()).isFalse();
    }

    @Test
    void aClosedConnectionLeavesTheRegistry() {
        EmbeddedChannel channel = new EmbeddedChannel();
        connections.register(hello, cart, channel);
        channel.close();
        assertThat(connections.admitted()).isEmpty();
        EmbeddedChannel closedBefore = new EmbeddedChannel();
        closedBefore.close();
        connections.register(hello, cart, closedBefore);
        assertThat(connections.admitted()).as("a channel closed before it registered is not kept").isEmpty();
    }
}
