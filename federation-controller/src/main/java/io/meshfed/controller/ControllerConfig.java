package io.meshfed.controller;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.catalog.PortRange;
import io.meshfed.controller.leader.LeaseBackends;
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
 * advertiseAddress: ctl.example:15012  # MESHFED_ADVERTISE_ADDRESS  told to joiners (default: listen); replicas:
 *                                  #   several, comma-separated (ctl-1:15012,ctl-2:15012), or one name per replica
 * pushDebounce: 50ms               # MESHFED_PUSH_DEBOUNCE
 * agentGracePeriod: 30s            # MESHFED_AGENT_GRACE_PERIOD  an agent's stream may be gone this long before
 *                                  #   its workloads are marked unhealthy
 * svidMaxTtl: 24h                  # MESHFED_SVID_MAX_TTL  the longest SVID join or renew gives (at least 1h);
 *                                  #   a longer request gets this
 * svidMaxTtlByTrustDomain:         # MESHFED_SVID_MAX_TTL_BY_TRUST_DOMAIN="east.acme.mesh=2h,west.acme.mesh=12h"
 *   east.acme.mesh: 2h             #   the maximum for one member trust domain instead of svidMaxTtl
 * configStreamsPerIdentity: 8      # MESHFED_CONFIG_STREAMS_PER_IDENTITY  concurrent config streams of one SPIFFE ID
 * memberPortQuota: 1000            # MESHFED_MEMBER_PORT_QUOTA  service ports one member may provide (and
 *                                  #   outbound listen ports its services may hold in one network's range)
 * outboundPortRange: 20000-32767   # MESHFED_OUTBOUND_PORT_RANGE  --outbound-port-range  where each importing
 *                                  #   network's outbound listen ports come from; no meshfed port (15006,
 *                                  #   15008, 15012-15022, 15443) may lie in it
 * maxPodsPerCluster: 100000        # MESHFED_MAX_PODS_PER_CLUSTER  pods a member cluster may have for its gateways to
 *                                  #   attest pods by source address; beyond it attestation is off for that cluster
 * bundleEndpointListen: 0.0.0.0:8443  # MESHFED_BUNDLE_ENDPOINT_LISTEN  --bundle-endpoint-listen  the https_web SPIFFE
 *                                  #   bundle endpoint (GET /.well-known/spiffe-bundle/TD); default empty: off
 * bundleEndpointCertFile: web.crt  # MESHFED_BUNDLE_ENDPOINT_CERT_FILE  --bundle-endpoint-cert-file  its web PKI
 *                                  #   certificate chain (PEM); required with bundleEndpointListen
 * bundleEndpointKeyFile: web.key   # MESHFED_BUNDLE_ENDPOINT_KEY_FILE  --bundle-endpoint-key-file  its key (PEM)
 * federationFetchTimeout: 10s      # MESHFED_FEDERATION_FETCH_TIMEOUT  one fetch of an outside trust domain's bundle
 * store: postgres://meshfed@db:5432/meshfed  # MESHFED_STORE  --store  where the state is kept: sqlite:PATH
 *                                  #   (default sqlite:DATA-DIR/state.db) or postgres://USER@HOST[:PORT]/DATABASE[?…]
 *                                  #   (shared by HA replicas); never with a password in it
 * storePasswordFile: /run/secrets/pg  # MESHFED_STORE_PASSWORD_FILE  --store-password-file  the database password's
 *                                  #   file; or the password itself in MESHFED_STORE_PASSWORD (no flag, no YAML key)
 * leaderLeaseTtl: 6s               # MESHFED_LEADER_LEASE_TTL  replicas on one PostgreSQL: a leader silent this long
 *                                  #   is replaced (it renews six times as often)
 * leaderLease: kubernetes          # MESHFED_LEADER_LEASE  --leader-lease  where replicas elect their leader: store
 *                                  #   (default: a record in the shared store) or kubernetes[:[NAMESPACE/]NAME]
 *                                  #   (a coordination.k8s.io Lease, default meshfed-controller-leader in the pod's
 *                                  #   namespace); writes are fenced by the store's record either way
 * </pre>
 */
public record ControllerConfig(Path dataDir, InetSocketAddress listen, InetSocketAddress httpListen,
        String advertiseAddress, Duration pushDebounce, Duration agentGracePeriod, Duration clusterStaleGrace,
        Duration svidMaxTtl, Map<String, Duration> svidMaxTtlByTrustDomain, int configStreamsPerIdentity,
        int memberPortQuota, InetSocketAddress probeListen, int maxPodsPerCluster, PortRange outboundPorts,
        io.meshfed.controller.federation.FederationSettings federation,
        io.meshfed.controller.store.StoreSettings store, Duration leaderLeaseTtl, String leaderLease) {
    public static final String DEFAULT_LISTEN = "127.0.0.1:15012";
    /** How long replicas wait for a silent leader before one of them takes over (it renews six times as often). */
    public static final Duration DEFAULT_LEADER_LEASE_TTL = Duration.ofSeconds(6);
    static final Duration MIN_LEADER_LEASE_TTL = Duration.ofSeconds(1);
    static final Duration MAX_LEADER_LEASE_TTL = Duration.ofMinutes(5);
    /** The environment variable that may hold the store's database password (there is no flag for it). */
    public static final String STORE_PASSWORD_VARIABLE = "MESHFED_STORE_PASSWORD";
    public static final String DEFAULT_HTTP_LISTEN = "127.0.0.1:15014";
    private static final Set<String> KEYS = Set.of("dataDir", "listen", "httpListen", "advertiseAddress",
            "pushDebounce", "agentGracePeriod", "clusterStaleGrace", "svidMaxTtl", "svidMaxTtlByTrustDomain",
            "configStreamsPerIdentity", "memberPortQuota", "probeListen", "maxPodsPerCluster", "outboundPortRange",
            "bundleEndpointListen", "bundleEndpointCertFile", "bundleEndpointKeyFile", "federationFetchTimeout",
            "store", "storePasswordFile", "leaderLeaseTtl", "leaderLease");
    public static final Duration DEFAULT_AGENT_GRACE_PERIOD = Duration.ofSeconds(30);
    /** How long a member cluster's endpoints stay (stale) while its API server is unreachable. */
    public static final Duration DEFAULT_CLUSTER_STALE_GRACE = Duration.ofMinutes(5);
    /** The longest SVID lifetime join and renew give, unless configured per trust domain. */
    public static final Duration DEFAULT_SVID_MAX_TTL = Duration.ofHours(24);
    /** The shortest maximum that may be configured: the shortest SVID lifetime supported. */
    public static final Duration MIN_SVID_MAX_TTL = Duration.ofHours(1);
    public static final int DEFAULT_CONFIG_STREAMS_PER_IDENTITY = 8;
    /** Pods per member cluster beyond which its pods are not attested (the connector's status says so). */
    public static final int DEFAULT_MAX_PODS_PER_CLUSTER = 100_000;
    /** The largest bound that may be configured (the connector keeps a few fields of every pod in memory). */
    public static final int MAX_MAX_PODS_PER_CLUSTER = 1_000_000;

    public ControllerConfig {
        requireNonNull(dataDir, "dataDir");
        requireNonNull(listen, "listen");
        requireNonNull(httpListen, "httpListen");
        requireNonNull(pushDebounce, "pushDebounce");
        agentGracePeriod = agentGracePeriod == null ? DEFAULT_AGENT_GRACE_PERIOD : agentGracePeriod;
        clusterStaleGrace = clusterStaleGrace == null ? DEFAULT_CLUSTER_STALE_GRACE : clusterStaleGrace;
        advertiseAddress = advertiseAddress == null ? "" : advertiseAddress; // empty: the bound listen address
        for (String a : io.meshfed.api.ControllerAddresses.split(advertiseAddress)) {
            try {
                io.meshfed.api.HostPort.parse(a);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("advertiseAddress '" + a + "' " + e.getMessage()
                        + " (HOST:PORT, or several comma-separated: one per controller replica)");
            }
        }
        svidMaxTtl = svidMaxTtl == null ? DEFAULT_SVID_MAX_TTL : svidMaxTtl;
        svidMaxTtlByTrustDomain = svidMaxTtlByTrustDomain == null ? Map.of() : Map.copyOf(svidMaxTtlByTrustDomain);
        configStreamsPerIdentity = configStreamsPerIdentity <= 0 ? DEFAULT_CONFIG_STREAMS_PER_IDENTITY
                : configStreamsPerIdentity;
        outboundPorts = outboundPorts == null ? PortRange.DEFAULT : outboundPorts;
        federation = federation == null ? io.meshfed.controller.federation.FederationSettings.DEFAULTS : federation;
        store = store == null ? io.meshfed.controller.store.StoreSettings.inDataDirectory(dataDir) : store;
        leaderLeaseTtl = leaderLeaseTtl == null ? DEFAULT_LEADER_LEASE_TTL : leaderLeaseTtl;
        if (!leaseTtlInBounds(leaderLeaseTtl)) {
            throw new ConfigException("leaderLeaseTtl " + leaderLeaseTtl.toMillis() + "ms is outside 1s-5m");
        }
        leaderLease = leaderLease == null || leaderLease.isBlank() ? LeaseBackends.DEFAULT : leaderLease.trim();
        try {
            LeaseBackends.standard().check(leaderLease);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("leaderLease: " + e.getMessage());
        }
        if (memberPortQuota < 1 || memberPortQuota > outboundPorts.size()) {
            throw new ConfigException("memberPortQuota " + memberPortQuota + " is outside 1-"
                    + outboundPorts.size() + " (the size of the outbound port range " + outboundPorts + ")");
        }
        // probeListen null: no plain-HTTP probe listener
        if (maxPodsPerCluster < 1 || maxPodsPerCluster > MAX_MAX_PODS_PER_CLUSTER) {
            throw new ConfigException("maxPodsPerCluster " + maxPodsPerCluster + " is outside 1-"
                    + MAX_MAX_PODS_PER_CLUSTER);
        }
    }

    /** In the embedded store of the data directory. */
    public ControllerConfig(Path dataDir, InetSocketAddress listen, InetSocketAddress httpListen,
            String advertiseAddress, Duration pushDebounce, Duration agentGracePeriod, Duration clusterStaleGrace,
            Duration svidMaxTtl, Map<String, Duration> svidMaxTtlByTrustDomain, int configStreamsPerIdentity,
            int memberPortQuota, InetSocketAddress probeListen, int maxPodsPerCluster, PortRange outboundPorts,
            io.meshfed.controller.federation.FederationSettings federation) {
        this(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod, clusterStaleGrace,
                svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota, probeListen,
                maxPodsPerCluster, outboundPorts, federation, null, null, null);
    }

    /** With the default pod bound and outbound port range. */
    public ControllerConfig(Path dataDir, InetSocketAddress listen, InetSocketAddress httpListen,
            String advertiseAddress, Duration pushDebounce, Duration agentGracePeriod, Duration clusterStaleGrace,
            Duration svidMaxTtl, Map<String, Duration> svidMaxTtlByTrustDomain, int configStreamsPerIdentity,
            int memberPortQuota, InetSocketAddress probeListen) {
        this(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod, clusterStaleGrace,
                svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota, probeListen,
                DEFAULT_MAX_PODS_PER_CLUSTER, null, null);
    }

    /** With the defaults for the SVID lifetime maximum, the stream limit and the port quota; no probe listener. */
    public ControllerConfig(Path dataDir, InetSocketAddress listen, InetSocketAddress httpListen,
            String advertiseAddress, Duration pushDebounce, Duration agentGracePeriod, Duration clusterStaleGrace) {
        this(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod, clusterStaleGrace, null,
                null, 0, PortAllocations.DEFAULT_MEMBER_QUOTA, null, DEFAULT_MAX_PODS_PER_CLUSTER, PortRange.DEFAULT,
                null);
    }

    /** With the default federation settings (no https_web bundle endpoint, the default fetch timeout). */
    public ControllerConfig(Path dataDir, InetSocketAddress listen, InetSocketAddress httpListen,
            String advertiseAddress, Duration pushDebounce, Duration agentGracePeriod, Duration clusterStaleGrace,
            Duration svidMaxTtl, Map<String, Duration> svidMaxTtlByTrustDomain, int configStreamsPerIdentity,
            int memberPortQuota, InetSocketAddress probeListen, int maxPodsPerCluster, PortRange outboundPorts) {
        this(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod, clusterStaleGrace,
                svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota, probeListen,
                maxPodsPerCluster, outboundPorts, null, null, null, null);
    }

    /** The same configuration with another SVID lifetime maximum (and maxima per trust domain). */
    public ControllerConfig withSvidMaxTtl(Duration max, Map<String, Duration> byTrustDomain) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod,
                clusterStaleGrace, max, byTrustDomain, configStreamsPerIdentity, memberPortQuota, probeListen,
                maxPodsPerCluster, outboundPorts, federation, store, leaderLeaseTtl, leaderLease);
    }

    /** The same configuration with another limit of config streams per SPIFFE ID. */
    public ControllerConfig withConfigStreamsPerIdentity(int limit) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, limit, memberPortQuota, probeListen,
                maxPodsPerCluster, outboundPorts, federation, store, leaderLeaseTtl, leaderLease);
    }

    /** The same configuration with another grace period for agents without a config stream. */
    public ControllerConfig withAgentGracePeriod(Duration grace) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, grace,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota,
                probeListen, maxPodsPerCluster, outboundPorts, federation, store, leaderLeaseTtl, leaderLease);
    }

    /** The same configuration with another port quota per member. */
    public ControllerConfig withMemberPortQuota(int quota) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, quota, probeListen,
                maxPodsPerCluster, outboundPorts, federation, store, leaderLeaseTtl, leaderLease);
    }

    /** The same configuration with another bound of pods per member cluster for pod attestation. */
    public ControllerConfig withMaxPodsPerCluster(int max) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota,
                probeListen, max, outboundPorts, federation, store, leaderLeaseTtl, leaderLease);
    }

    /** The same configuration with another outbound port range. */
    public ControllerConfig withOutboundPorts(PortRange range) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota,
                probeListen, maxPodsPerCluster, range, federation, store, leaderLeaseTtl, leaderLease);
    }

    /** The same configuration listening for gRPC at {@code address} and telling joiners {@code advertise}. */
    public ControllerConfig withListen(InetSocketAddress address, String advertise) {
        return new ControllerConfig(dataDir, address, httpListen, advertise, pushDebounce, agentGracePeriod,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota,
                probeListen, maxPodsPerCluster, outboundPorts, federation, store, leaderLeaseTtl, leaderLease);
    }

    private static boolean leaseTtlInBounds(Duration ttl) {
        return ttl.compareTo(MIN_LEADER_LEASE_TTL) >= 0 && ttl.compareTo(MAX_LEADER_LEASE_TTL) <= 0;
    }

    /** The same configuration with another leader lease time. */
    public ControllerConfig withLeaderLeaseTtl(Duration ttl) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota,
                probeListen, maxPodsPerCluster, outboundPorts, federation, store, ttl, leaderLease);
    }

    /** The same configuration with another leader lease ({@code store}, {@code kubernetes:NAMESPACE/NAME}). */
    public ControllerConfig withLeaderLease(String lease) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota,
                probeListen, maxPodsPerCluster, outboundPorts, federation, store, leaderLeaseTtl, lease);
    }

    /** The same configuration in another store. */
    public ControllerConfig withStore(io.meshfed.controller.store.StoreSettings settings) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota,
                probeListen, maxPodsPerCluster, outboundPorts, federation, settings, leaderLeaseTtl, leaderLease);
    }

    /** The same configuration with other federation settings (bundle endpoint, fetch timeout). */
    public ControllerConfig withFederation(io.meshfed.controller.federation.FederationSettings settings) {
        return new ControllerConfig(dataDir, listen, httpListen, advertiseAddress, pushDebounce, agentGracePeriod,
                clusterStaleGrace, svidMaxTtl, svidMaxTtlByTrustDomain, configStreamsPerIdentity, memberPortQuota,
                probeListen, maxPodsPerCluster, outboundPorts, settings, store, leaderLeaseTtl, leaderLease);
    }

    /** The settings as given, before validation: each value with where it came from. */
    public static final class Builder {
        private final Map<String, String[]> values = new java.util.LinkedHashMap<>();
        /** MESHFED_STORE_PASSWORD: only ever from the environment, and kept out of {@link #values}. */
        private String environmentStorePassword;

        public Builder() {
            set("dataDir", "meshfed-data", "default");
            set("listen", DEFAULT_LISTEN, "default");
            set("httpListen", DEFAULT_HTTP_LISTEN, "default");
            set("advertiseAddress", "", "default");
            set("pushDebounce", "50ms", "default");
            set("agentGracePeriod", "30s", "default");
            set("clusterStaleGrace", "5m", "default");
            set("svidMaxTtl", "24h", "default");
            set("svidMaxTtlByTrustDomain", "", "default");
            set("configStreamsPerIdentity", Integer.toString(DEFAULT_CONFIG_STREAMS_PER_IDENTITY), "default");
            set("memberPortQuota", String.valueOf(PortAllocations.DEFAULT_MEMBER_QUOTA), "default");
            set("probeListen", "", "default");
            set("maxPodsPerCluster", Integer.toString(DEFAULT_MAX_PODS_PER_CLUSTER), "default");
            set("outboundPortRange", PortRange.DEFAULT.toString(), "default");
            set("bundleEndpointListen", "", "default");
            set("bundleEndpointCertFile", "", "default");
            set("bundleEndpointKeyFile", "", "default");
            set("federationFetchTimeout", "10s", "default");
            set("store", "", "default");
            set("storePasswordFile", "", "default");
            set("leaderLeaseTtl", "6s", "default");
            set("leaderLease", LeaseBackends.DEFAULT, "default");
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
                set(key, key.equals("svidMaxTtlByTrustDomain") ? trustDomainMap(root.get(key), file)
                        : root.get(key).asText(), "config file " + file);
            }
            return this;
        }

        /** A YAML mapping {@code trust-domain: duration} in the form the environment variable takes. */
        private static String trustDomainMap(JsonNode node, Path file) {
            if (node.isNull()) {
                return "";
            }
            if (!node.isObject()) {
                throw new ConfigException("config file " + file + ": svidMaxTtlByTrustDomain must be a mapping of"
                        + " trust domain to duration, e.g. {east.acme.mesh: 2h}");
            }
            java.util.List<String> entries = new java.util.ArrayList<>();
            node.fields().forEachRemaining(e -> entries.add(e.getKey() + "=" + e.getValue().asText()));
            return String.join(",", entries);
        }

        public Builder environment(Map<String, String> env) {
            Map<String, String> names = Map.ofEntries(
                    Map.entry("MESHFED_DATA_DIR", "dataDir"),
                    Map.entry("MESHFED_LISTEN", "listen"),
                    Map.entry("MESHFED_HTTP_LISTEN", "httpListen"),
                    Map.entry("MESHFED_ADVERTISE_ADDRESS", "advertiseAddress"),
                    Map.entry("MESHFED_PUSH_DEBOUNCE", "pushDebounce"),
                    Map.entry("MESHFED_AGENT_GRACE_PERIOD", "agentGracePeriod"),
                    Map.entry("MESHFED_CLUSTER_STALE_GRACE", "clusterStaleGrace"),
                    Map.entry("MESHFED_SVID_MAX_TTL", "svidMaxTtl"),
                    Map.entry("MESHFED_SVID_MAX_TTL_BY_TRUST_DOMAIN", "svidMaxTtlByTrustDomain"),
                    Map.entry("MESHFED_CONFIG_STREAMS_PER_IDENTITY", "configStreamsPerIdentity"),
                    Map.entry("MESHFED_MEMBER_PORT_QUOTA", "memberPortQuota"),
                    Map.entry("MESHFED_PROBE_LISTEN", "probeListen"),
                    Map.entry("MESHFED_MAX_PODS_PER_CLUSTER", "maxPodsPerCluster"),
                    Map.entry("MESHFED_OUTBOUND_PORT_RANGE", "outboundPortRange"),
                    Map.entry("MESHFED_BUNDLE_ENDPOINT_LISTEN", "bundleEndpointListen"),
                    Map.entry("MESHFED_BUNDLE_ENDPOINT_CERT_FILE", "bundleEndpointCertFile"),
                    Map.entry("MESHFED_BUNDLE_ENDPOINT_KEY_FILE", "bundleEndpointKeyFile"),
                    Map.entry("MESHFED_FEDERATION_FETCH_TIMEOUT", "federationFetchTimeout"),
                    Map.entry("MESHFED_STORE", "store"),
                    Map.entry("MESHFED_STORE_PASSWORD_FILE", "storePasswordFile"),
                    Map.entry("MESHFED_LEADER_LEASE_TTL", "leaderLeaseTtl"),
                    Map.entry("MESHFED_LEADER_LEASE", "leaderLease"));
            String password = env.get(STORE_PASSWORD_VARIABLE);
            environmentStorePassword = password == null || password.isEmpty() ? null : password;
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
            return new ControllerConfig(path("dataDir"), address("listen"), address("httpListen"),
                    get("advertiseAddress"), duration("pushDebounce"), duration("agentGracePeriod"),
                    duration("clusterStaleGrace"), svidMaxTtl("svidMaxTtl"), svidMaxTtlByTrustDomain(),
                    streamLimit(), integer("memberPortQuota"),
                    get("probeListen").isBlank() ? null : address("probeListen"), maxPodsPerCluster(),
                    portRange("outboundPortRange"), federation(), store(), leaderLeaseTtl(),
                    leaderLease());
        }

        private String leaderLease() {
            try {
                LeaseBackends.standard().check(get("leaderLease"));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("leaderLease (from " + values.get("leaderLease")[1] + "): "
                        + e.getMessage());
            }
            return get("leaderLease");
        }

        private Duration leaderLeaseTtl() {
            Duration ttl = duration("leaderLeaseTtl");
            if (!leaseTtlInBounds(ttl)) {
                throw new ConfigException("leaderLeaseTtl (from " + values.get("leaderLeaseTtl")[1] + "): must be"
                        + " from 1s to 5m, got " + get("leaderLeaseTtl"));
            }
            return ttl;
        }

        private io.meshfed.controller.store.StoreSettings store() {
            String location = get("store").trim();
            boolean fromFile = !get("storePasswordFile").isBlank();
            if (fromFile && environmentStorePassword != null) {
                throw new ConfigException("the store password is given twice: in storePasswordFile (from "
                        + values.get("storePasswordFile")[1] + ") and in " + STORE_PASSWORD_VARIABLE
                        + "; give it one way");
            }
            io.meshfed.controller.store.StoreSettings.Password password = fromFile
                    ? io.meshfed.controller.store.StoreSettings.Password.fromFile(path("storePasswordFile"))
                    : environmentStorePassword != null
                            ? io.meshfed.controller.store.StoreSettings.Password.fromEnvironment(
                                    STORE_PASSWORD_VARIABLE, environmentStorePassword)
                            : io.meshfed.controller.store.StoreSettings.Password.NONE;
            if (location.isEmpty() && password.given()) {
                throw new ConfigException("a store password is given (" + password.source() + ") but no store:"
                        + " the default is the SQLite file in the data directory, which takes none");
            }
            io.meshfed.controller.store.StoreSettings settings = location.isEmpty()
                    ? io.meshfed.controller.store.StoreSettings.inDataDirectory(path("dataDir"))
                    : new io.meshfed.controller.store.StoreSettings(location, password);
            try {
                io.meshfed.controller.store.backends.StoreBackends.standard().check(settings);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("store (from " + values.get("store")[1] + "): " + e.getMessage());
            }
            return settings;
        }

        private io.meshfed.controller.federation.FederationSettings federation() {
            try {
                return new io.meshfed.controller.federation.FederationSettings(
                        get("bundleEndpointListen").isBlank() ? null : address("bundleEndpointListen"),
                        get("bundleEndpointCertFile").isBlank() ? null : path("bundleEndpointCertFile"),
                        get("bundleEndpointKeyFile").isBlank() ? null : path("bundleEndpointKeyFile"),
                        duration("federationFetchTimeout"));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage() + " (bundleEndpointListen from "
                        + values.get("bundleEndpointListen")[1] + ", federationFetchTimeout from "
                        + values.get("federationFetchTimeout")[1] + ")");
            }
        }

        private PortRange portRange(String key) {
            try {
                return PortRange.parse(get(key));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + " (from " + values.get(key)[1] + "): " + e.getMessage());
            }
        }

        private int integer(String key) {
            String v = get(key).trim();
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new ConfigException(key + " '" + v + "' (from " + values.get(key)[1] + ") is not a whole number");
            }
        }

        private Duration svidMaxTtl(String key) {
            Duration max = duration(key);
            if (max.compareTo(MIN_SVID_MAX_TTL) < 0) {
                throw new ConfigException(key + " (from " + values.get(key)[1] + "): must be at least 1h, the"
                        + " shortest SVID lifetime supported; got " + get(key));
            }
            return max;
        }

        private Map<String, Duration> svidMaxTtlByTrustDomain() {
            String key = "svidMaxTtlByTrustDomain";
            String source = values.get(key)[1];
            Map<String, Duration> byDomain = new java.util.TreeMap<>();
            for (String entry : get(key).split(",")) {
                if (entry.isBlank()) {
                    continue;
                }
                int eq = entry.indexOf('=');
                String where = key + " (from " + source + "): ";
                if (eq < 0) {
                    throw new ConfigException(where + "'" + entry.trim() + "' is not TRUST-DOMAIN=DURATION, e.g."
                            + " east.acme.mesh=2h");
                }
                String td = entry.substring(0, eq).trim();
                try {
                    td = io.meshfed.trust.TrustDomain.parse(td).name();
                } catch (io.meshfed.trust.InvalidSpiffeIdException e) {
                    throw new ConfigException(where + "trust domain '" + td + "': " + e.getMessage());
                }
                String text = entry.substring(eq + 1).trim();
                Duration max;
                try {
                    max = io.meshfed.api.Durations.parse(text);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(where + td + ": " + e.getMessage());
                }
                if (max.compareTo(MIN_SVID_MAX_TTL) < 0) {
                    throw new ConfigException(where + td + ": must be at least 1h, the shortest SVID lifetime"
                            + " supported; got " + text);
                }
                byDomain.put(td, max);
            }
            return byDomain;
        }

        private int maxPodsPerCluster() {
            String key = "maxPodsPerCluster";
            String v = get(key).trim();
            try {
                int max = Integer.parseInt(v);
                if (max >= 1 && max <= MAX_MAX_PODS_PER_CLUSTER) {
                    return max;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new ConfigException(key + " (from " + values.get(key)[1] + "): must be a whole number from 1 to"
                    + " " + MAX_MAX_PODS_PER_CLUSTER + ", got '" + v + "'");
        }

        private int streamLimit() {
            String key = "configStreamsPerIdentity";
            String v = get(key).trim();
            try {
                int limit = Integer.parseInt(v);
                if (limit >= 1 && limit <= 10_000) {
                    return limit;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new ConfigException(key + " (from " + values.get(key)[1] + "): must be a whole number from 1 to"
                    + " 10000, got '" + v + "'");
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

        private Path path(String key) {
            String v = get(key);
            try {
                return Path.of(v);
            } catch (java.nio.file.InvalidPathException e) {
                throw new ConfigException(key + " (from " + values.get(key)[1] + "): not a path: " + e.getReason());
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
