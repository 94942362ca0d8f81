package io.meshfed.edge;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code meshfed.edge.*}: where the controller is and who this edge gateway is. The join token is needed only
 * while the state directory holds no identity; give it in {@code MESHFED_JOIN_TOKEN} rather than on the command
 * line.
 */
@ConfigurationProperties("meshfed.edge")
public record EdgeProperties(String controller, String member, String name, String stateDir, String token) {
    /** The first problem with the settings, named by property, or null. */
    String problem() {
        if (blank(controller)) {
            return "meshfed.edge.controller (HOST:PORT of the controller) is required";
        }
        if (blank(member)) {
            return "meshfed.edge.member (the member this edge gateway belongs to) is required";
        }
        if (blank(name)) {
            return "meshfed.edge.name (this edge gateway's name) is required";
        }
        if (blank(stateDir)) {
            return "meshfed.edge.state-dir (where the identity is kept) is required";
        }
        return null;
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
