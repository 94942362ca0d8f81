package io.meshfed.controller.model;

/**
 * A root rotation of one trust domain (keyed by it), the state machine the rotation driver moves on: which CA
 * generation it rotates from and to, the phase, and when each began. Generation 0 is the CA in
 * {@code ca/<td>/}; generation n in {@code ca/<td>/generations/<n>/}. A finished rotation stays (completed or
 * aborted) and names the generation in use. Times are epoch milliseconds; 0 when not yet.
 *
 * @param bundleVersion the bundle set version of the phase's bundle (both roots while the rotation runs, then the
 *     remaining one): the version every subscriber must have ACKed
 * @param soakMillis least time each phase lasts
 * @param participants SPIFFE IDs of the subscribers seen connected since the rotation began, sorted: each must be
 *     back and ACK (or be revoked) before a phase ends, so a controller restart, after which nobody is connected
 *     yet, does not look like a federation in which everyone agreed
 */
public record RotationRecord(String trustDomain, long number, Phase phase, int fromGeneration, int toGeneration,
        String fromBackend, String toBackend, long startedAtMillis, long phaseSinceMillis, long bundleVersion,
        long soakMillis, java.util.List<String> participants) {
    public RotationRecord {
        participants = participants == null ? java.util.List.of() : java.util.List.copyOf(participants);
    }

    /** The phases, in the order a rotation passes them. */
    public enum Phase {
        /** The new root is in the bundle; the old CA still issues; waiting for every subscriber to trust the new. */
        ADD_ROOT("add-root"),
        /** The new CA issues; subscribers renew early; waiting until no SVID of the old chain is in use. */
        ISSUE("issue"),
        /** Aborted after the new CA issued: the old CA issues again; waiting until no SVID of the new chain is. */
        ABORTING("aborting"),
        /** The old root is dropped; the new generation is the trust domain's CA. */
        COMPLETED("completed"),
        /** The new root is dropped; the old generation stays the trust domain's CA. */
        ABORTED("aborted");

        private final String label;

        Phase(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public boolean finished() {
            return this == COMPLETED || this == ABORTED;
        }
    }

    /** The generation that issues in this phase. */
    public int issuingGeneration() {
        return switch (phase) {
            case ISSUE, COMPLETED -> toGeneration;
            case ADD_ROOT, ABORTING, ABORTED -> fromGeneration;
        };
    }

    /** The generations whose roots the trust domain's bundle holds in this phase, the older first. */
    public java.util.List<Integer> bundleGenerations() {
        return switch (phase) {
            case ADD_ROOT, ISSUE, ABORTING -> java.util.List.of(fromGeneration, toGeneration);
            case COMPLETED -> java.util.List.of(toGeneration);
            case ABORTED -> java.util.List.of(fromGeneration);
        };
    }

    /** The generation SVIDs should come from, during the phases in which subscribers renew toward it. */
    public java.util.Optional<Integer> renewToward() {
        return switch (phase) {
            case ISSUE -> java.util.Optional.of(toGeneration);
            case ABORTING -> java.util.Optional.of(fromGeneration);
            default -> java.util.Optional.empty();
        };
    }

    /** The generation whose SVIDs must be gone before the phase ends. */
    public int leavingGeneration() {
        return phase == Phase.ABORTING ? toGeneration : fromGeneration;
    }

    public RotationRecord to(Phase next, long atMillis, long version) {
        return new RotationRecord(trustDomain, number, next, fromGeneration, toGeneration, fromBackend, toBackend,
                startedAtMillis, atMillis, version, soakMillis, participants);
    }

    public RotationRecord withParticipants(java.util.Collection<String> ids) {
        return new RotationRecord(trustDomain, number, phase, fromGeneration, toGeneration, fromBackend, toBackend,
                startedAtMillis, phaseSinceMillis, bundleVersion, soakMillis,
                new java.util.TreeSet<>(ids).stream().toList());
    }
}
