package io.meshfed.api;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where an admin's credentials live: {@code $MESHFED_HOME}, else {@code $HOME/.meshfed}, else
 * {@code <user.home>/.meshfed}, owner-only. Written by {@code meshfed init}, read by every admin command.
 */
public final class AdminFiles {
    public static final String HOME_VARIABLE = "MESHFED_HOME";
    /** {@link io.meshfed.api.v1.AdminConfig} as proto3 JSON. */
    public static final String CONFIG = "config.json";
    public static final String CERTIFICATE = "admin.crt.pem";
    public static final String KEY = "admin.key.pem";
    /** The federation trust domain's bundle (SPIFFE JSON): verifies the controller. */
    public static final String BUNDLE = "federation-bundle.json";

    private AdminFiles() {}

    public static Path home(Map<String, String> environment) {
        String explicit = environment.get(HOME_VARIABLE);
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        return UserHome.of(environment).resolve(".meshfed");
    }
}
