package io.meshfed.controller.model;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A kind of member and what the rest of the controller may assume about it; stored by {@link #name()} in a
 * {@link MemberRecord}. Behaviour that differs between kinds is asked of the member's type, never decided by
 * comparing type names.
 *
 * @param name the stored and user-facing name ({@code meshfed member add --type NAME})
 * @param joinedBy the command that adds a member of this kind when it brings its connector's credentials (so
 *     {@code member add} refuses it and names the command); empty when {@code member add} adds it
 * @param gatewayAttestsSources whether its east-west gateway may speak for its workloads: it attests them by source
 *     address from what the connector watches (Kubernetes pods), and the tunnels accept its forwarded identities
 */
public record MemberType(String name, Optional<String> joinedBy, boolean gatewayAttestsSources) {
    /** A group of VMs, each running vm-agent, which authenticates itself: nothing for its gateway to attest. */
    public static final MemberType VM = new MemberType("vm", Optional.empty(), false);
    /** A Kubernetes cluster, read and written through its API server; its gateway attests pods. */
    public static final MemberType KUBERNETES = new MemberType("kubernetes",
            Optional.of("meshfed cluster join NAME --kubeconfig FILE --network NET"), true);
    /** A Consul datacenter whose catalog is imported; its services are not attested by source. */
    public static final MemberType CONSUL = new MemberType("consul",
            Optional.of("meshfed consul join NAME --address URL --network NET"), false);

    private static final List<MemberType> ALL = List.of(VM, KUBERNETES, CONSUL);

    /** The type named {@code name}, if there is one. */
    public static Optional<MemberType> named(String name) {
        return ALL.stream().filter(t -> t.name.equals(name)).findFirst();
    }

    /**
     * The type of a stored member. A name no type has (a record from a newer version) gets the most restricted
     * behaviour: a VM's, whose gateway speaks for nobody.
     */
    public static MemberType of(MemberRecord member) {
        return named(member.type()).orElse(VM);
    }

    /** The names of every type, for messages. */
    public static String names() {
        return ALL.stream().map(MemberType::name).collect(Collectors.joining(", "));
    }
}
