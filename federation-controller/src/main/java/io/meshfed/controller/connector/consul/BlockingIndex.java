package io.meshfed.controller.connector.consul;

/**
 * The index rules of Consul's blocking queries, as its documentation's "Implementation Details" give them: the next
 * query waits on the index the last answer carried, except that an index that went backwards (the servers lost their
 * Raft state, or a different server answered) or that is not above 0 resets the client to 0, which reads at once.
 */
final class BlockingIndex {
    private BlockingIndex() {
    }

    /** The index to send next, given the one sent ({@code held}) and the one answered (null when no header). */
    static long next(long held, Long answered) {
        if (answered == null || answered <= 0 || answered < held) {
            return 0;
        }
        return answered;
    }
}
