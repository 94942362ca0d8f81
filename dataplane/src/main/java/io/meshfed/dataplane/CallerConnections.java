package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.ServiceSni;
import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The inbound connections (or tunnel streams) a proxy let in, each with the (service, caller) pair it was decided
 * for, so that a new policy can be applied to them: {@link #recheck} closes those the policy no longer allows. An entry
 * leaves when its channel closes. Thread-safe.
 *
 * <p>Listeners call {@link #admit}: it registers the channel <em>before</em> deciding, so a table swapped in between
 * the decision and the registration cannot be missed (either the decision reads the new table, or the recheck that
 * follows the swap sees the channel).
 */
public final class CallerConnections {
    /**
     * One admitted connection: the caller it was decided for, and {@code via} the gateway that forwarded that
     * caller's identity (a tunnel stream of an attested pod), else empty.
     */
    public record Admitted(ServiceSni service, SpiffeId caller, Optional<SpiffeId> via, Channel channel) {
        public Admitted {
            requireNonNull(via, "via");
        }
    }

    private final Map<Channel, Admitted> open = new ConcurrentHashMap<>();

    /**
     * Registers {@code channel}, asks {@code policy}, and keeps the channel only when it is allowed. The caller closes
     * a refused channel (and counts its refusal) itself.
     */
    public CallerDecision admit(ServiceSni service, SpiffeId caller, Channel channel, InboundPolicy policy) {
        return admit(service, caller, Optional.empty(), channel, policy);
    }

    /**
     * As {@link #admit(ServiceSni, SpiffeId, Channel, InboundPolicy)} for a caller whose identity {@code via} (a
     * gateway) forwarded: the forwarder must not be revoked nor named by a deny rule of the service either, now and
     * on every recheck, so revoking or denying a gateway also ends the streams it opened for others.
     */
    public CallerDecision admit(ServiceSni service, SpiffeId caller, Optional<SpiffeId> via, Channel channel,
            InboundPolicy policy) {
        register(service, caller, via, channel);
        CallerDecision decision = decide(policy, service, caller, via);
        if (!decision.allowed()) {
            open.remove(channel);
        }
        return decision;
    }

    /** Registers an admitted channel; it is forgotten when it closes. */
    public void register(ServiceSni service, SpiffeId caller, Channel channel) {
        register(service, caller, Optional.empty(), channel);
    }

    private void register(ServiceSni service, SpiffeId caller, Optional<SpiffeId> via, Channel channel) {
        requireNonNull(channel, "channel");
        open.put(channel, new Admitted(requireNonNull(service, "service"), requireNonNull(caller, "caller"), via,
                channel));
        channel.closeFuture().addListener(f -> open.remove(channel));
    }

    /** The caller's decision, unless the forwarder itself is revoked or denied, which refuses the pair. */
    private static CallerDecision decide(InboundPolicy policy, ServiceSni service, SpiffeId caller,
            Optional<SpiffeId> via) {
        if (via.isPresent()) {
            CallerDecision forwarder = policy.uncounted().decide(service, via.get());
            if (forwarder.reason() == AuthzReason.REVOKED || forwarder.reason() == AuthzReason.POLICY_DENY) {
                return forwarder;
            }
        }
        return policy.decide(service, caller);
    }

    /**
     * Decides every open connection again with {@code policy} and closes those it refuses for who the caller is
     * (revoked, denied, no longer exported to). One whose service merely has no upstream in the new table (health, not
     * authorization) is left to its relay. Returns the decisions of the connections it closed.
     */
    public List<CallerDecision> recheck(InboundPolicy policy) {
        List<CallerDecision> closed = new ArrayList<>();
        for (Admitted a : open.values()) {
            CallerDecision d = decide(policy, a.service(), a.caller(), a.via());
            if (!d.allowed() && d.reason() != AuthzReason.UNKNOWN_SERVICE && open.remove(a.channel()) != null) {
                a.channel().close();
                closed.add(d);
            }
        }
        return closed;
    }

    /** Whether {@code channel} is admitted and was not closed by a recheck since. */
    public boolean isAdmitted(Channel channel) {
        return open.containsKey(channel);
    }

    /** The connections registered now. */
    public List<Admitted> admitted() {
        return List.copyOf(open.values());
    }
}
