package io.meshfed.client;

import java.util.Map;
import java.util.Optional;

/**
 * Where a joiner's token comes from: the {@code --token} flag (or property) when one is given, otherwise the
 * {@value #ENVIRONMENT_VARIABLE} environment variable, which launchers prefer because a flag shows in the process
 * list. A blank value counts as none.
 */
public final class JoinTokenSource {
    /** The environment variable that carries a join token. */
    public static final String ENVIRONMENT_VARIABLE = "MESHFED_JOIN_TOKEN";

    private JoinTokenSource() {}

    /**
     * The token: {@code flag} when it is not blank, else the environment's when that is not blank, else empty. The
     * value is returned as given (a malformed one is the controller's to refuse, naming what is wrong).
     */
    public static Optional<String> resolve(String flag, Map<String, String> environment) {
        if (flag != null && !flag.isBlank()) {
            return Optional.of(flag);
        }
        String fromEnvironment = environment.get(ENVIRONMENT_VARIABLE);
        return fromEnvironment == null || fromEnvironment.isBlank() ? Optional.empty() : Optional.of(fromEnvironment);
    }

    /** The admin command that makes a token for this joiner, for messages: {@code meshfed token create ...}. */
    public static String createCommand(String member, String role) {
        return "meshfed token create --member " + member + " --role " + role;
    }
}
