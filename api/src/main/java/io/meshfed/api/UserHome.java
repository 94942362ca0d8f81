package io.meshfed.api;

import java.nio.file.Path;
import java.util.Map;

/**
 * The user's home directory for default paths: {@code $HOME}, else Java's {@code user.home}. {@code $HOME} comes
 * first because CI, containers and pods running as a UID without a passwd entry set it while {@code user.home}
 * (read from the passwd database) points elsewhere or is {@code ?}.
 */
public final class UserHome {
    public static final String VARIABLE = "HOME";

    private UserHome() {}

    public static Path of(Map<String, String> environment) {
        String home = environment.get(VARIABLE);
        if (home != null && !home.isBlank()) {
            return Path.of(home);
        }
        return Path.of(System.getProperty("user.home"));
    }
}
