package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.ServiceSni;
import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    /** One admitted connection. */
    public record Admitted(ServiceSni service, SpiffeId caller, Channel channel) {}

    private final Map<Channel, Admitted> open = new ConcurrentHashMap<>();

    /**
     * Registers {@code channel}, asks {@code policy}, and keeps the channel only when it is allowed. The caller closes
     * a refused channel (and counts its refusal) itself.
     */
    public CallerDecision admit(ServiceSni service, SpiffeId caller, Channel channel, InboundPolicy policy) {
        register(service, caller, channel);
        CallerDecision decision = policy.decide(service, caller);
        if (!decision.allowed()) {
            open.remove(channel);
        }
        return decision;
    }

    /** Registers an admitted channel; it is forgotten when it closes. */
    public void register(ServiceSni service, SpiffeId caller, Channel channel) {
        requireNonNull(channel, "channel");
        open.put(channel, new Admitted(requireNonNull(service, "service"), requireNonNull(caller, "caller"), channel));
        channel.closeFuture().addListener(f -> open.remove(channel));
    }

    /**
     * Decides every open connection again with {@code policy} and closes those it refuses for who the caller is
     * (revoked, denied, no longer exported to). One whose service merely has no upstream in the new table (health, not
     * authorization) is left to its relay. Returns the decisions of the connections it closed.
     */
    public List<CallerDecision> recheck(InboundPolicy policy) {
        List<CallerDecision> closed = new ArrayList<>();
        for (Admitted a : open.values()) {
            CallerDecision d = policy.decide(a.service(), a.caller());
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
