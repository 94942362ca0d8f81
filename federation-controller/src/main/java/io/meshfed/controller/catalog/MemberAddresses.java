package io.meshfed.controller.catalog;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.HostPort;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.netty.util.NetUtil;
import java.util.List;
import java.util.Optional;

/**
 * The addresses a member may report, from the CIDRs the admin gave it ({@code meshfed member add --cidr}). A member
 * without CIDRs may report any address; a member with some may report only IP literals inside one of them (a host
 * name is refused then: what it resolves to is not the admin's decision). IPv4 and IPv6; an IPv4-mapped IPv6
 * address counts as the IPv4 address it maps.
 */
public final class MemberAddresses {
    /** At most this many CIDRs per member. */
    public static final int MAX_CIDRS = 64;

    private final MemberRecord member;
    private final List<Cidr> cidrs;

    private MemberAddresses(MemberRecord member) {
        this.member = member;
        this.cidrs = member.cidrs().stream().map(Cidr::parse).toList();
    }

    /** The rule of {@code member}; its CIDRs were checked when they were stored. */
    public static MemberAddresses of(MemberRecord member) {
        return new MemberAddresses(requireNonNull(member, "member"));
    }

    /** Whether {@code hostPort} (HOST:PORT) is an address the member may report. */
    public boolean allows(String hostPort) {
        return refusal(hostPort).isEmpty();
    }

    /** Why {@code hostPort} (HOST:PORT) may not be reported by the member; empty when it may. */
    public Optional<String> refusal(String hostPort) {
        String host;
        try {
            host = HostPort.parse(hostPort).getHostString();
        } catch (IllegalArgumentException e) {
            return Optional.of("address '" + hostPort + "' " + e.getMessage());
        }
        return refusal(hostPort, host);
    }

    /** As {@link #refusal(String)}, for a bare host (an IP literal or a name, no port). */
    public Optional<String> hostRefusal(String host) {
        return refusal(host, host);
    }

    /**
     * Why an endpoint address the controller read from the member (an EndpointSlice address) may not be dialled in
     * plain TCP: not an IP literal; outside the member's CIDRs when it has some; without CIDRs, a loopback,
     * link-local, unspecified or multicast address (a gateway's own ports, a cloud metadata service), which only a
     * CIDR the admin gave the member can allow.
     */
    public Optional<String> endpointRefusal(String host) {
        byte[] ip = ipLiteral(host);
        if (ip == null) {
            return Optional.of("endpoint address '" + host + "' is not an IP address");
        }
        if (!cidrs.isEmpty()) {
            return refusal(host, host);
        }
        java.net.InetAddress a;
        try {
            a = java.net.InetAddress.getByAddress(ip);
        } catch (java.net.UnknownHostException e) {
            return Optional.of("endpoint address '" + host + "' is not an IP address");
        }
        if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress() || a.isMulticastAddress()) {
            return Optional.of("endpoint address '" + host + "' is a loopback, link-local, unspecified or multicast"
                    + " address; give member " + member.name() + " CIDRs that include it to allow it");
        }
        return Optional.empty();
    }

    private Optional<String> refusal(String address, String host) {
        if (cidrs.isEmpty()) {
            return Optional.empty();
        }
        byte[] ip = ipLiteral(host);
        if (ip == null) {
            return Optional.of("address '" + address + "' is not an IP address; member " + member.name()
                    + " has CIDRs " + member.cidrs() + ", so it may report only IP addresses inside them");
        }
        if (cidrs.stream().noneMatch(c -> c.contains(ip))) {
            return Optional.of("address '" + address + "' is outside member " + member.name() + "'s CIDRs "
                    + member.cidrs() + "; report an address inside them, or add its range with meshfed member add "
                    + member.name() + " --cidr CIDR");
        }
        return Optional.empty();
    }

    /**
     * Checks the syntax of {@code text} ({@code ADDRESS/PREFIX}, IPv4 or IPv6, no host bits set).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static void checkCidr(String text) {
        Cidr.parse(text);
    }

    /** The address bytes of an IP literal (4 for IPv4, including IPv4-mapped IPv6; 16 for IPv6), else null. */
    private static byte[] ipLiteral(String host) {
        if (host == null || host.isEmpty() || host.indexOf('%') >= 0) {
            return null;
        }
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
        if (ip != null && ip.length == 16 && isIpv4Mapped(ip)) {
            return java.util.Arrays.copyOfRange(ip, 12, 16);
        }
        return ip;
    }

    private static boolean isIpv4Mapped(byte[] ip) {
        for (int i = 0; i < 10; i++) {
            if (ip[i] != 0) {
                return false;
            }
        }
        return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
    }

    /** One range: the network's bytes and the prefix length. */
    private record Cidr(byte[] network, int prefix) {
        static Cidr parse(String text) {
            String rule = "CIDR '" + text + "' must be ADDRESS/PREFIX, e.g. 10.1.0.0/16 or fd00:1::/64";
            int slash = text == null ? -1 : text.indexOf('/');
            if (slash < 0) {
                throw new IllegalArgumentException(rule);
            }
            byte[] network = ipLiteral(text.substring(0, slash));
            String prefixText = text.substring(slash + 1);
            if (network == null || !prefixText.matches("\\d{1,3}")) {
                throw new IllegalArgumentException(rule);
            }
            if (text.substring(0, slash).contains(":") && network.length == 4) {
                throw new IllegalArgumentException("CIDR '" + text + "': write an IPv4-mapped range as IPv4");
            }
            int prefix = Integer.parseInt(prefixText);
            if (prefix > network.length * 8) {
                throw new IllegalArgumentException("CIDR '" + text + "': the prefix must be 0-" + network.length * 8);
            }
            if (hasHostBits(network, prefix)) {
                throw new IllegalArgumentException("CIDR '" + text + "' has bits set after its /" + prefix
                        + " prefix; write the range's first address");
            }
            return new Cidr(network, prefix);
        }

        private static boolean hasHostBits(byte[] ip, int prefix) {
            for (int bit = prefix; bit < ip.length * 8; bit++) {
                if ((ip[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                    return true;
                }
            }
            return false;
        }

        boolean contains(byte[] ip) {
            if (ip.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (ip[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (ip[full] & mask) == (network[full] & mask);
        }
    }

    /** The workloads of a report split by {@link #endpointRefusal}: those that may be dialled, and why not. */
    public record Dialable(List<WorkloadSetRecord.Workload> kept, int refused, String firstRefusal) {
        public Dialable {
            kept = List.copyOf(kept);
        }
    }

    /** The workloads that may be dialled in plain TCP, and the first reason one was left out. */
    public Dialable dialable(List<WorkloadSetRecord.Workload> workloads) {
        List<WorkloadSetRecord.Workload> kept = new java.util.ArrayList<>();
        String first = null;
        int refused = 0;
        for (WorkloadSetRecord.Workload w : workloads) {
            Optional<String> refusal = endpointRefusal(w.address());
            if (refusal.isPresent()) {
                first = first == null ? w.service() + "." + w.namespace() + ": " + refusal.get() : first;
                refused++;
            } else {
                kept.add(w);
            }
        }
        return new Dialable(kept, refused, first);
    }
}
