package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * The SPIFFE IDs meshfed issues, one shape per role, and the role of an ID read back from its path:
 *
 * <table>
 * <caption>roles and paths</caption>
 * <tr><th>role</th><th>path</th></tr>
 * <tr><td>{@link Role#WORKLOAD}</td><td>{@code /ns/<namespace>/sa/<service-account>} (Istio's and Linkerd's)</td></tr>
 * <tr><td>{@link Role#AGENT}</td><td>{@code /ns/<namespace>/vm/<name>}</td></tr>
 * <tr><td>{@link Role#GATEWAY}</td><td>{@code /meshfed/gateway/<name>}</td></tr>
 * <tr><td>{@link Role#EDGE}</td><td>{@code /meshfed/edge/<name>}</td></tr>
 * <tr><td>{@link Role#CONTROLLER}</td><td>{@value #CONTROLLER_PATH}</td></tr>
 * <tr><td>{@link Role#ADMIN}</td><td>{@value #ADMIN_PATH} and any path below it</td></tr>
 * </table>
 *
 * <p>Every variable part is exactly one path segment. The role says only what the path is shaped as; which trust
 * domain may hold it (the controller's and the admin's are the federation's) is for the caller to check, e.g. with
 * {@link #isAdmin(SpiffeId, TrustDomain)}.
 */
public final class MeshfedIds {
    /** The controller's path, in the federation's trust domain. */
    public static final String CONTROLLER_PATH = "/meshfed/controller";
    /** The admin's path, in the federation's trust domain; paths below it are admins too. */
    public static final String ADMIN_PATH = "/meshfed/admin";
    private static final String SEGMENT_RULE = "must be one SPIFFE path segment (letters, digits, '.', '-', '_')";

    /** What an ID is for, from the shape of its path. */
    public enum Role {
        /** A workload of a mesh, {@code /ns/<namespace>/sa/<service-account>}. */
        WORKLOAD,
        /** A VM agent, {@code /ns/<namespace>/vm/<name>}. */
        AGENT,
        /** An east-west gateway, {@code /meshfed/gateway/<name>}. */
        GATEWAY,
        /** An edge gateway, {@code /meshfed/edge/<name>}. */
        EDGE,
        /** The federation controller, {@value MeshfedIds#CONTROLLER_PATH}. */
        CONTROLLER,
        /** A federation admin, {@value MeshfedIds#ADMIN_PATH} or below. */
        ADMIN
    }

    private MeshfedIds() {}

    /**
     * A workload's ID.
     *
     * @throws IllegalArgumentException when a part is not one valid path segment (an {@link InvalidSpiffeIdException}
     *     when it has a character the SPIFFE ID standard refuses)
     */
    public static SpiffeId workload(TrustDomain trustDomain, String namespace, String serviceAccount) {
        return id(trustDomain, "/ns/" + segment("namespace", namespace) + "/sa/"
                + segment("service account", serviceAccount));
    }

    /** A VM agent's ID. @throws IllegalArgumentException as {@link #workload} */
    public static SpiffeId agent(TrustDomain trustDomain, String namespace, String name) {
        return id(trustDomain, "/ns/" + segment("namespace", namespace) + "/vm/" + segment("name", name));
    }

    /** An east-west gateway's ID. @throws IllegalArgumentException as {@link #workload} */
    public static SpiffeId gateway(TrustDomain trustDomain, String name) {
        return id(trustDomain, "/meshfed/gateway/" + segment("name", name));
    }

    /** An edge gateway's ID. @throws IllegalArgumentException as {@link #workload} */
    public static SpiffeId edge(TrustDomain trustDomain, String name) {
        return id(trustDomain, "/meshfed/edge/" + segment("name", name));
    }

    /** The controller's ID in the federation's trust domain. */
    public static SpiffeId controller(TrustDomain federation) {
        return id(federation, CONTROLLER_PATH);
    }

    /** The admin's ID (the one {@code meshfed init} issues) in the federation's trust domain. */
    public static SpiffeId admin(TrustDomain federation) {
        return id(federation, ADMIN_PATH);
    }

    /** The role the path of {@code id} has; empty for a path of no meshfed shape and for a trust domain's ID. */
    public static Optional<Role> roleOf(SpiffeId id) {
        String[] s = segments(id);
        if (s.length == 4 && s[0].equals("ns")) {
            return s[2].equals("sa") ? Optional.of(Role.WORKLOAD) : s[2].equals("vm") ? Optional.of(Role.AGENT)
                    : Optional.empty();
        }
        if (s.length >= 2 && s[0].equals("meshfed")) {
            return switch (s[1]) {
                case "gateway" -> s.length == 3 ? Optional.of(Role.GATEWAY) : Optional.empty();
                case "edge" -> s.length == 3 ? Optional.of(Role.EDGE) : Optional.empty();
                case "controller" -> s.length == 2 ? Optional.of(Role.CONTROLLER) : Optional.empty();
                case "admin" -> Optional.of(Role.ADMIN);
                default -> Optional.empty();
            };
        }
        return Optional.empty();
    }

    /**
     * The role of {@code text} when it is a SPIFFE ID; empty when it is not one (such as the key of the workloads a
     * connector read from a cluster) or has no meshfed shape.
     */
    public static Optional<Role> roleOf(String text) {
        try {
            return text == null ? Optional.empty() : roleOf(SpiffeId.parse(text));
        } catch (InvalidSpiffeIdException e) {
            return Optional.empty();
        }
    }

    /** Whether the path of {@code id} has the shape of {@code role}. */
    public static boolean hasRole(SpiffeId id, Role role) {
        return roleOf(id).equals(Optional.of(requireNonNull(role, "role")));
    }

    /** The namespace of a workload's or an agent's ID; empty for any other. */
    public static Optional<String> namespaceOf(SpiffeId id) {
        Optional<Role> role = roleOf(id);
        return role.equals(Optional.of(Role.WORKLOAD)) || role.equals(Optional.of(Role.AGENT))
                ? Optional.of(segments(id)[1]) : Optional.empty();
    }

    /** Whether {@code id} is an admin's: {@value #ADMIN_PATH} or below, in the federation's trust domain. */
    public static boolean isAdmin(SpiffeId id, TrustDomain federation) {
        return id.trustDomain().equals(federation) && hasRole(id, Role.ADMIN);
    }

    private static String[] segments(SpiffeId id) {
        return id.isTrustDomainId() ? new String[0] : id.path().substring(1).split("/", -1);
    }

    private static String segment(String what, String value) {
        if (value == null || value.isEmpty() || value.contains("/")) {
            throw new IllegalArgumentException(what + " '" + value + "' " + SEGMENT_RULE);
        }
        return value;
    }

    private static SpiffeId id(TrustDomain trustDomain, String path) {
        return requireNonNull(trustDomain, "trustDomain").workload(path);
    }
}
