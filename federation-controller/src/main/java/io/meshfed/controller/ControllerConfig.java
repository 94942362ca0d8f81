package io.meshfed.controller;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The controller's configuration: defaults, overridden by a YAML file, then by environment variables, then by
 * flags. Validated as a whole at start; every error names the setting and where it came from.
 *
 * <pre>
 * dataDir: /var/lib/meshfed        # MESHFED_DATA_DIR        --data-dir     (default ./meshfed-data)
 * listen: 127.0.0.1:15012          # MESHFED_LISTEN          --listen       gRPC over mTLS
 * httpListen: 127.0.0.1:15014      # MESHFED_HTTP_LISTEN     --http-listen  HTTPS: health, metrics, JSON admin
 * probeListen: 0.0.0.0:15016       # MESHFED_PROBE_LISTEN    --probe-listen plain HTTP: health, metrics only
 *                                  #   (default empty: off)
 * advertiseAddress: ctl.example:15012  # MESHFED_ADVERTISE_ADDRESS  told to joiners (default: listen)
 * pushDebounce: 50ms               # MESHFED_PUSH_DEBOUNCE
 * agentGracePeriod: 30s            # MESHFED_AGENT_GRACE_PERIOD  an agent's stream may be gone this long before
 *                                  #   its workloads are marked unhealthy
 * </pre>
 */
public record ControllerConfig(Path dataDir, InetSocketAddress listen, InetSocketAddress httpListen,
        String advertiseAddress, Duration pushDebounce, Duration agentGracePeriod, Duration clusterStaleGrace,
        InetSocketAddress probeListen) {
    public static final String DEFAULT_LISTEN = "127.0.0.1:15012";
    public static final String DEFAULT_HTTP_LISTEN = "127.0.0.1:15014";
    private static final Set<String> KEYS = Set.of("dataDir", "listen", "httpListen", "advertiseAddress",
            "pushDebounce", "agentGracePeriod", "clusterStaleGrace", "probeListen");
    public static final Duration DEFAULT_AGENT_GRACE_PERIOD = Duration.ofSeconds(30);
    /** How long a member cluster's endpoints stay (stale) while its API server is unreachable. */
    public static final Duration DEFAULT_CLUSTER_STALE_GRACE = Duration.ofMinutes(5);

    public ControllerConfig {
        requireNonNull(dataDir, "dataDir");
        requireNonNull(listen, "listen");
        requireNonNull(httpListen, "httpListen");
        requireNonNull(pushDebounce, "pushDebounce");
        agentGracePeriod = agentGracePeriod == null ? DEFAULT_AGENT_GRACE_PERIOD : agentGracePeriod;
        clusterStaleGrace = clusterStaleGrace == null ? DEFAULT_CLUSTER_STALE_GRACE : clusterStaleGrace;
        advertiseAddress = advertiseAddress == null ? "" : advertiseAddress; // empty: the bound listen address
        // probeListen null: no plain-HTTP probe listener
    }

    /** Without the plain-HTTP probe listener. */
    public ControllerConfig(Path dataDir, InetSocketAddress listen, InetSocketAddress httpListen,
            String advertiseAddress, Duration pushDebounce, Duration agentGracePeriod, Duration clusterStaleGrace) {
        this(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod, clusterStaleGrace, null);
    }

    /** The settings as given, before validation: each value with where it came from. */
    public static final class Builder {
        private final Map<String, String[]> values = new java.util.LinkedHashMap<>();

        public Builder() {
            set("dataDir", "meshfed-data", "default");
            set("listen", DEFAULT_LISTEN, "default");
            set("httpListen", DEFAULT_HTTP_LISTEN, "default");
            set("advertiseAddress", "", "default");
            set("pushDebounce", "50ms", "default");
            set("agentGracePeriod", "30s", "default");
            set("clusterStaleGrace", "5m", "default");
            set("probeListen", "", "default");
        }

        private void set(String key, String value, String source) {
            values.put(key, new String[] {value, source});
        }

        /** Reads a YAML file; unknown keys are errors (a typo must not be ignored silently). */
        public Builder yaml(Path file) {
            JsonNode root;
            try {
                root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
            } catch (IOException e) {
                throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
            }
            if (root == null || root.isMissingNode() || root.isNull()) {
                return this;
            }
            if (!root.isObject()) {
                throw new ConfigException("config file " + file + " must be a YAML mapping of settings");
            }
            for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!KEYS.contains(key)) {
                    throw new ConfigException("config file " + file + ": unknown setting '" + key + "'; known: "
                            + new java.util.TreeSet<>(KEYS));
                }
                set(key, root.get(key).asText(), "config file " + file);
            }
            return this;
        }

        public Builder environment(Map<String, String> env) {
            Map<String, String> names = Map.of("MESHFED_DATA_DIR", "dataDir", "MESHFED_LISTEN", "listen",
                    "MESHFED_HTTP_LISTEN", "httpListen", "MESHFED_ADVERTISE_ADDRESS", "advertiseAddress",
                    "MESHFED_PUSH_DEBOUNCE", "pushDebounce", "MESHFED_AGENT_GRACE_PERIOD", "agentGracePeriod",
                    "MESHFED_CLUSTER_STALE_GRACE", "clusterStaleGrace", "MESHFED_PROBE_LISTEN", "probeListen");
            names.forEach((var, key) -> {
                String v = env.get(var);
                if (v != null && !v.isEmpty()) {
                    set(key, v, "environment variable " + var);
                }
            });
            return this;
        }

        public Builder flag(String key, String value, String flag) {
            if (value != null) {
                set(key, value, "flag " + flag);
            }
            return this;
        }

        public ControllerConfig build() {
            return new ControllerConfig(Path.of(get("dataDir")), address("listen"), address("httpListen"),
                    get("advertiseAddress"), duration("pushDebounce"), duration("agentGracePeriod"),
                    duration("clusterStaleGrace"), get("probeListen").isBlank() ? null : address("probeListen"));
        }

        private String get(String key) {
            return values.get(key)[0];
        }

        private InetSocketAddress address(String key) {
            String v = get(key);
            try {
                return io.meshfed.api.HostPort.parseResolved(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + " '" + v + "' (from " + values.get(key)[1] + ") " + e.getMessage());
            }
        }

        private Duration duration(String key) {
            String v = get(key).trim();
            try {
                return io.meshfed.api.Durations.parse(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + " (from " + values.get(key)[1] + "): " + e.getMessage());
            }
        }

        /** The effective settings with their sources, for the debug log. */
        public String describe() {
            StringBuilder sb = new StringBuilder();
            values.forEach((k, v) -> sb.append(k).append('=').append(v[0]).append(" (").append(v[1]).append(") "));
            return sb.toString().trim();
        }
    }

    /** A setting is wrong; the message names it and its source. */
    public static final class ConfigException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public ConfigException(String message) {
            super(message);
        }
    }
}
