package io.meshfed.controller.catalog;

import java.util.List;

/**
 * The range {@code first-last} (inclusive) that outbound listen ports are allocated from, in each importing network.
 * It may not include a port meshfed's own listeners use by default ({@link #MESHFED_PORTS}), so that an imported
 * service never takes the port of a gateway, agent or controller on the same host. The default, 20000-32767, holds
 * 12,768 ports and stays below Linux's ephemeral range (32768-60999), so outgoing connections never take one first.
 */
public record PortRange(int first, int last) {
    /**
     * meshfed's own default ports: agent inbound 15006, tunnel 15008, controller 15012/15014/15016, agent HTTP
     * 15020, gateway HTTP 15021, edge management 15022, gateway SNI 15443.
     */
    public static final List<Integer> MESHFED_PORTS = List.of(15006, 15008, 15012, 15014, 15016, 15020, 15021, 15022,
            15443);
    /** 20000-32767. */
    public static final PortRange DEFAULT = new PortRange(20000, 32767); // after MESHFED_PORTS, which it checks

    public PortRange {
        if (first < 1 || last > 65535 || first > last) {
            throw new IllegalArgumentException("port range " + first + "-" + last
                    + " must be FIRST-LAST with 1 <= FIRST <= LAST <= 65535");
        }
        for (int p : MESHFED_PORTS) {
            if (first <= p && p <= last) {
                throw new IllegalArgumentException("port range " + first + "-" + last + " includes " + p
                        + ", one of meshfed's own ports " + MESHFED_PORTS + "; choose a range without them, e.g. "
                        + DEFAULT);
            }
        }
    }

    /** Parses {@code FIRST-LAST}, e.g. {@code 20000-32767}; the message of a refusal says what is wrong. */
    public static PortRange parse(String text) {
        String t = text.trim();
        int dash = t.indexOf('-');
        if (dash <= 0 || dash == t.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not a port range FIRST-LAST, e.g. " + DEFAULT);
        }
        try {
            return new PortRange(Integer.parseInt(t.substring(0, dash).trim()),
                    Integer.parseInt(t.substring(dash + 1).trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a port range FIRST-LAST, e.g. " + DEFAULT);
        }
    }

    public boolean contains(int port) {
        return first <= port && port <= last;
    }

    public int size() {
        return last - first + 1;
    }

    @Override
    public String toString() {
        return first + "-" + last;
    }
}
