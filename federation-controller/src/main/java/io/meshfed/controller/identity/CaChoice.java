package io.meshfed.controller.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshfed.trust.ca.BuiltinCertificateAuthority;
import io.meshfed.trust.ca.CaBackends;
import io.meshfed.trust.ca.CaException;
import io.meshfed.trust.ca.ProvidedCertificateAuthority;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which CA backend a trust domain has, as its directory's {@value #FILE} says:
 * {@code {"backend": "vault", "settings": {"address": "https://vault:8200", "mount": "pki", "role": "spiffe",
 * "token-file": "/etc/meshfed/vault-token"}}}. Without the file (trust domains made before it existed): the
 * operator's {@code provided/} set when there is one, else {@code builtin}; the choice is then written down, so it
 * never changes because a file appeared or went.
 */
record CaChoice(String backend, Map<String, String> settings) {
    static final String FILE = "backend.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    CaChoice {
        settings = Map.copyOf(settings);
    }

    static CaChoice of(Path dir) {
        Path file = dir.resolve(FILE);
        if (Files.isRegularFile(file)) {
            return read(file);
        }
        boolean provided = Files.isRegularFile(dir.resolve(CaBackends.PROVIDED_DIR).resolve(CaBackends.PROVIDED_CERT));
        CaChoice c = new CaChoice(provided ? ProvidedCertificateAuthority.BACKEND : BuiltinCertificateAuthority.BACKEND,
                Map.of());
        c.write(file);
        return c;
    }

    private static CaChoice read(Path file) {
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CaException(file + " is not JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.path("backend").isTextual()) {
            throw new CaException(file + " must name the CA backend: {\"backend\": \"builtin|provided|vault\", ...}");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        n.path("settings").fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
        return new CaChoice(n.get("backend").asText(), settings);
    }

    void write(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(FILE + ".tmp");
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(
                    Map.of("backend", backend, "settings", settings)) + "\n");
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new CaException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
