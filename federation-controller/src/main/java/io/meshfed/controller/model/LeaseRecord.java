package io.meshfed.controller.model;

/**
 * The leader lease of the controller replicas that share one store: who holds it, the epoch its holder won it in
 * (every takeover raises it), and when the holder last renewed it, by its own clock (for people reading it; no
 * replica compares its clock with another's: a candidate times a lease by when it saw it change).
 */
public record LeaseRecord(String holder, long epoch, long renewedAtMillis) {}
