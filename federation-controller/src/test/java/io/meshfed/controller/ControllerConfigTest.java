package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControllerConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsThenYamlThenEnvironmentThenFlags() throws Exception {
        Path yaml = dir.resolve("controller.yaml");
        Files.writeString(yaml, "dataDir: /from/yaml\nlisten: 127.0.0.9:7000\npushDebounce: 2s\n");
        ControllerConfig config = new ControllerConfig.Builder().yaml(yaml)
                .environment(Map.of("MESHFED_LISTEN", "127.0.0.8:7001", "MESHFED_HTTP_LISTEN", "127.0.0.8:7002"))
                .flag("listen", "127.0.0.7:7003", "--listen")
                .build();
        assertThat(config.dataDir()).isEqualTo(Path.of("/from/yaml"));
        assertThat(config.listen().getPort()).isEqualTo(7003);
        assertThat(config.httpListen().getPort()).isEqualTo(7002);
        assertThat(config.pushDebounce()).isEqualTo(Duration.ofSeconds(2));
        ControllerConfig defaults = new ControllerConfig.Builder().build();
        assertThat(defaults.listen().getPort()).isEqualTo(15012);
        assertThat(defaults.httpListen().getPort()).isEqualTo(15014);
    }

    @Test
    void badSettingsNameTheSettingAndItsSource() throws Exception {
        Path yaml = dir.resolve("typo.yaml");
        Files.writeString(yaml, "listne: 127.0.0.1:1\n");
        assertThatThrownBy(() -> new ControllerConfig.Builder().yaml(yaml))
                .hasMessageContaining("unknown setting 'listne'");
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("listen", "localhost", "--listen").build())
                .hasMessage("listen 'localhost' (from flag --listen) must be HOST:PORT with a port 0-65535");
        assertThatThrownBy(() -> new ControllerConfig.Builder()
                .environment(Map.of("MESHFED_PUSH_DEBOUNCE", "soon")).build())
                .hasMessageContaining("(from environment variable MESHFED_PUSH_DEBOUNCE)");
        Files.writeString(yaml, "- a list\n");
        assertThatThrownBy(() -> new ControllerConfig.Builder().yaml(yaml)).hasMessageContaining("YAML mapping");
    }

    /** Found by ControllerConfigFuzzTest's seed: a NUL in dataDir escaped as InvalidPathException. */
    @Test
    void theOutboundPortRangeComesFromYamlEnvironmentOrFlagAndIsChecked() throws Exception {
        ControllerConfig defaults = new ControllerConfig.Builder().build();
        assertThat(defaults.outboundPorts()).isEqualTo(new io.meshfed.controller.catalog.PortRange(20000, 32767));
        assertThat(defaults.outboundPorts().size()).isGreaterThanOrEqualTo(10_000);

        Path yaml = dir.resolve("ports.yaml");
        Files.writeString(yaml, "outboundPortRange: 40000-49999\n");
        assertThat(new ControllerConfig.Builder().yaml(yaml).build().outboundPorts().first()).isEqualTo(40000);
        assertThat(new ControllerConfig.Builder().yaml(yaml)
                .environment(Map.of("MESHFED_OUTBOUND_PORT_RANGE", "41000-41999"))
                .flag("outboundPortRange", "42000-42999", "--outbound-port-range").build().outboundPorts())
                .hasToString("42000-42999");

        assertThatThrownBy(() -> new ControllerConfig.Builder()
                .flag("outboundPortRange", "30000", "--outbound-port-range").build())
                .isInstanceOf(ControllerConfig.ConfigException.class)
                .hasMessage("outboundPortRange (from flag --outbound-port-range): '30000' is not a port range"
                        + " FIRST-LAST, e.g. 20000-32767");
        assertThatThrownBy(() -> new ControllerConfig.Builder()
                .flag("outboundPortRange", "30000-20000", "--outbound-port-range").build())
                .hasMessageContaining("must be FIRST-LAST with 1 <= FIRST <= LAST <= 65535");
        assertThatThrownBy(() -> new ControllerConfig.Builder()
                .environment(Map.of("MESHFED_OUTBOUND_PORT_RANGE", "15000-16000")).build())
                .hasMessageContaining("(from environment variable MESHFED_OUTBOUND_PORT_RANGE)")
                .hasMessageContaining("includes 15006, one of meshfed's own ports");
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("outboundPortRange", "20000-20009", "--x")
                .flag("memberPortQuota", "11", "--y").build())
                .hasMessage("memberPortQuota 11 is outside 1-10 (the size of the outbound port range 20000-20009)");
    }

    @Test
    void aDataDirThatIsNoPathNamesTheSetting() throws Exception {
        Path yaml = dir.resolve("nul.yaml");
        Files.writeString(yaml, "dataDir: \"a\\0b\"\n");
        assertThatThrownBy(() -> new ControllerConfig.Builder().yaml(yaml).build())
                .isInstanceOf(ControllerConfig.ConfigException.class)
                .hasMessage("dataDir (from config file " + yaml + "): not a path: Nul character not allowed");
    }

    @Test
    void svidMaximumAndStreamLimitComeFromYamlAndEnvironment() throws Exception {
        ControllerConfig defaults = new ControllerConfig.Builder().build();
        assertThat(defaults.svidMaxTtl()).isEqualTo(Duration.ofHours(24));
        assertThat(defaults.svidMaxTtlByTrustDomain()).isEmpty();
        assertThat(defaults.configStreamsPerIdentity()).isEqualTo(8);

        Path yaml = dir.resolve("controller.yaml");
        Files.writeString(yaml, "svidMaxTtl: 12h\nsvidMaxTtlByTrustDomain:\n  east.acme.mesh: 2h\n"
                + "  spiffe://west.acme.mesh: 6h\nconfigStreamsPerIdentity: 4\n");
        ControllerConfig fromYaml = new ControllerConfig.Builder().yaml(yaml).build();
        assertThat(fromYaml.svidMaxTtl()).isEqualTo(Duration.ofHours(12));
        assertThat(fromYaml.svidMaxTtlByTrustDomain()).isEqualTo(Map.of("east.acme.mesh", Duration.ofHours(2),
                "west.acme.mesh", Duration.ofHours(6)));
        assertThat(fromYaml.configStreamsPerIdentity()).isEqualTo(4);

        ControllerConfig fromEnv = new ControllerConfig.Builder().yaml(yaml).environment(Map.of(
                "MESHFED_SVID_MAX_TTL", "8h", "MESHFED_SVID_MAX_TTL_BY_TRUST_DOMAIN", "north.acme.mesh=3h",
                "MESHFED_CONFIG_STREAMS_PER_IDENTITY", "16")).build();
        assertThat(fromEnv.svidMaxTtl()).isEqualTo(Duration.ofHours(8));
        assertThat(fromEnv.svidMaxTtlByTrustDomain()).isEqualTo(Map.of("north.acme.mesh", Duration.ofHours(3)));
        assertThat(fromEnv.configStreamsPerIdentity()).isEqualTo(16);
    }

    @Test
    void badSvidMaximaAndStreamLimitsNameTheSettingAndItsSource() throws Exception {
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of("MESHFED_SVID_MAX_TTL", "30m"))
                .build()).hasMessage("svidMaxTtl (from environment variable MESHFED_SVID_MAX_TTL): must be at least"
                        + " 1h, the shortest SVID lifetime supported; got 30m");
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of(
                "MESHFED_SVID_MAX_TTL_BY_TRUST_DOMAIN", "east.acme.mesh:2h")).build())
                .hasMessage("svidMaxTtlByTrustDomain (from environment variable MESHFED_SVID_MAX_TTL_BY_TRUST_DOMAIN):"
                        + " 'east.acme.mesh:2h' is not TRUST-DOMAIN=DURATION, e.g. east.acme.mesh=2h");
        Path yaml = dir.resolve("bad.yaml");
        Files.writeString(yaml, "svidMaxTtlByTrustDomain:\n  east.acme.mesh: 10m\n");
        assertThatThrownBy(() -> new ControllerConfig.Builder().yaml(yaml).build())
                .hasMessage("svidMaxTtlByTrustDomain (from config file " + yaml + "): east.acme.mesh: must be at"
                        + " least 1h, the shortest SVID lifetime supported; got 10m");
        Files.writeString(yaml, "svidMaxTtlByTrustDomain: 2h\n");
        assertThatThrownBy(() -> new ControllerConfig.Builder().yaml(yaml))
                .hasMessageContaining("svidMaxTtlByTrustDomain must be a mapping of trust domain to duration");
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of(
                "MESHFED_CONFIG_STREAMS_PER_IDENTITY", "0")).build())
                .hasMessage("configStreamsPerIdentity (from environment variable MESHFED_CONFIG_STREAMS_PER_IDENTITY):"
                        + " must be a whole number from 1 to 10000, got '0'");
    }

    @Test
    void thePodBoundDefaultsTo100000AndABadOneNamesItsSource() throws Exception {
        assertThat(new ControllerConfig.Builder().build().maxPodsPerCluster()).isEqualTo(100_000);
        Path yaml = dir.resolve("pods.yaml");
        Files.writeString(yaml, "maxPodsPerCluster: 5000\n");
        assertThat(new ControllerConfig.Builder().yaml(yaml).build().maxPodsPerCluster()).isEqualTo(5000);
        assertThat(new ControllerConfig.Builder().yaml(yaml).environment(Map.of("MESHFED_MAX_PODS_PER_CLUSTER",
                "7000")).build().maxPodsPerCluster()).isEqualTo(7000);
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of("MESHFED_MAX_PODS_PER_CLUSTER",
                "0")).build()).hasMessage("maxPodsPerCluster (from environment variable MESHFED_MAX_PODS_PER_CLUSTER):"
                        + " must be a whole number from 1 to 1000000, got '0'");
    }

    @Test
    void theProbeListenerIsOffUnlessSet() throws Exception {
        assertThat(new ControllerConfig.Builder().build().probeListen()).isNull();
        Path yaml = dir.resolve("probes.yaml");
        Files.writeString(yaml, "probeListen: 127.0.0.9:7004\n");
        assertThat(new ControllerConfig.Builder().yaml(yaml).build().probeListen().getPort()).isEqualTo(7004);
        assertThat(new ControllerConfig.Builder().yaml(yaml).environment(Map.of("MESHFED_PROBE_LISTEN",
                "127.0.0.8:7005")).build().probeListen().getPort()).isEqualTo(7005);
        assertThat(new ControllerConfig.Builder().yaml(yaml).flag("probeListen", "127.0.0.7:7006", "--probe-listen")
                .build().probeListen().getPort()).isEqualTo(7006);
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("probeListen", "nowhere", "--probe-listen")
                .build()).hasMessageStartingWith("probeListen 'nowhere' (from flag --probe-listen)");
    }

    @Test
    void theWebBundleEndpointNeedsItsListenerCertificateAndKeyTogether() throws Exception {
        assertThat(new ControllerConfig.Builder().build().federation().webEndpoint()).isFalse();
        assertThat(new ControllerConfig.Builder().build().federation().fetchTimeout()).hasSeconds(10);
        Path yaml = dir.resolve("bundles.yaml");
        Files.writeString(yaml, "bundleEndpointListen: 127.0.0.9:8443\nbundleEndpointCertFile: web.crt\n"
                + "bundleEndpointKeyFile: web.key\nfederationFetchTimeout: 3s\n");
        var federation = new ControllerConfig.Builder().yaml(yaml).build().federation();
        assertThat(federation.webEndpoint()).isTrue();
        assertThat(federation.bundleEndpointListen().getPort()).isEqualTo(8443);
        assertThat(federation.bundleEndpointKeyFile()).hasToString("web.key");
        assertThat(federation.fetchTimeout()).hasSeconds(3);
        assertThat(new ControllerConfig.Builder().yaml(yaml).flag("bundleEndpointListen", "127.0.0.9:9443",
                "--bundle-endpoint-listen").build().federation().bundleEndpointListen().getPort()).isEqualTo(9443);
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of("MESHFED_BUNDLE_ENDPOINT_LISTEN",
                "127.0.0.9:8443")).build()).hasMessageContaining("bundleEndpointListen, bundleEndpointCertFile and"
                        + " bundleEndpointKeyFile go together").hasMessageContaining("environment variable");
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of(
                "MESHFED_FEDERATION_FETCH_TIMEOUT", "5m")).build()).hasMessageContaining("at most 1m");
    }

    @Test
    void anUninitialisedDataDirectoryIsAClearError() {
        ControllerConfig config = new ControllerConfig.Builder().flag("dataDir", dir.resolve("empty").toString(),
                "--data-dir").flag("listen", "127.0.0.1:0", "--listen").flag("httpListen", "127.0.0.1:0", "x").build();
        assertThatThrownBy(() -> Controller.start(config, java.time.Clock.systemUTC()))
                .hasMessageContaining("no federation in " + dir.resolve("empty"))
                .hasMessageContaining("meshfed init --controller HOST:PORT --data-dir");
    }

    @Test
    void theStoreIsTheDataDirectorysSqliteFileUnlessALocationIsGiven() throws Exception {
        ControllerConfig defaults = new ControllerConfig.Builder().flag("dataDir", "/var/lib/meshfed", "--data-dir")
                .build();
        assertThat(defaults.store().location()).isEqualTo("sqlite:/var/lib/meshfed/state.db");
        Path password = dir.resolve("pg.pw");
        Files.writeString(password, "pw-from-file\n");
        Files.setPosixFilePermissions(password, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Path yaml = dir.resolve("c.yaml");
        Files.writeString(yaml, "store: postgres://meshfed@db1:5432,db2:5432/federation?sslmode=verify-full\n"
                + "storePasswordFile: " + password + "\n");
        ControllerConfig pg = new ControllerConfig.Builder().yaml(yaml).build();
        assertThat(pg.store().location()).startsWith("postgres://meshfed@db1");
        assertThatThrownBy(() -> pg.store().password().read())
                .isInstanceOf(io.meshfed.controller.store.StoreException.class)
                .hasMessageContaining("is accessible by group or others (rw-r--r--)")
                .hasMessageContaining("chmod 600 " + password).message().doesNotContain("pw-from-file");
        Files.setPosixFilePermissions(password, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertThat(pg.store().password().read()).isEqualTo("pw-from-file");
        ControllerConfig fromEnv = new ControllerConfig.Builder().environment(Map.of(
                "MESHFED_STORE", "postgresql://meshfed@db/federation", "MESHFED_STORE_PASSWORD", "pw-from-env"))
                .build();
        assertThat(fromEnv.store().password().read()).isEqualTo("pw-from-env");
        // The configuration is printed with --debug: it says where the password comes from, never what it is.
        assertThat(fromEnv.toString()).contains("environment variable MESHFED_STORE_PASSWORD")
                .doesNotContain("pw-from-env");
        assertThat(pg.toString()).contains("file " + password).doesNotContain("pw-from-file");
        ControllerConfig flags = new ControllerConfig.Builder().flag("store", "sqlite:/tmp/other.db", "--store")
                .build();
        assertThat(flags.store().location()).isEqualTo("sqlite:/tmp/other.db");
    }

    @Test
    void aBadStoreOrPasswordSourceNamesTheCauseAndNeverEchoesAPassword() throws Exception {
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("store", "postgres://meshfed:hunter2@db/f",
                "--store").build()).isInstanceOf(ControllerConfig.ConfigException.class)
                .hasMessageContaining("store (from flag --store)").hasMessageContaining("must not carry a password")
                .message().doesNotContain("hunter2");
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("store", "mysql://meshfed:hunter2@db/f",
                "--store").build()).isInstanceOf(ControllerConfig.ConfigException.class)
                .hasMessageContaining("known: sqlite:PATH, postgres://USER@HOST[:PORT]/DATABASE")
                .message().doesNotContain("hunter2");
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of("MESHFED_STORE",
                "postgres://meshfed@db/f", "MESHFED_STORE_PASSWORD", "x", "MESHFED_STORE_PASSWORD_FILE", "/p"))
                .build()).isInstanceOf(ControllerConfig.ConfigException.class).hasMessageContaining("given twice");
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of("MESHFED_STORE_PASSWORD", "x"))
                .build()).isInstanceOf(ControllerConfig.ConfigException.class).hasMessageContaining("but no store");
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of("MESHFED_STORE",
                "sqlite:/tmp/x.db", "MESHFED_STORE_PASSWORD", "x")).build()).isInstanceOf(ControllerConfig.ConfigException.class)
                .hasMessageContaining("store (from environment variable MESHFED_STORE): a SQLite store takes no password");
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("store", "sqlite:", "--store").build())
                .hasMessageContaining("names no file");
    }

    @Test
    void theLeaderLeaseIsTheStoresUnlessAKubernetesLeaseIsNamedAndABadOneIsRefusedWithItsSource() throws Exception {
        assertThat(new ControllerConfig.Builder().build().leaderLease()).isEqualTo("store");
        Path yaml = dir.resolve("lease.yaml");
        Files.writeString(yaml, "leaderLease: kubernetes\n");
        assertThat(new ControllerConfig.Builder().yaml(yaml).build().leaderLease()).isEqualTo("kubernetes");
        assertThat(new ControllerConfig.Builder().yaml(yaml)
                .environment(Map.of("MESHFED_LEADER_LEASE", "kubernetes:meshfed-system/leader"))
                .flag("leaderLease", "kubernetes:ha/meshfed-leader", "--leader-lease").build().leaderLease())
                .isEqualTo("kubernetes:ha/meshfed-leader");
        assertThatThrownBy(() -> new ControllerConfig.Builder().environment(Map.of("MESHFED_LEADER_LEASE",
                "kubernetes:Meshfed/leader")).build()).isInstanceOf(ControllerConfig.ConfigException.class)
                .hasMessageContaining("leaderLease (from environment variable MESHFED_LEADER_LEASE)")
                .hasMessageContaining("'Meshfed' in kubernetes:Meshfed/leader is not a namespace name");
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("leaderLease", "zookeeper", "--leader-lease")
                .build()).isInstanceOf(ControllerConfig.ConfigException.class)
                .hasMessageContaining("leaderLease (from flag --leader-lease): 'zookeeper' is not a leader lease;"
                        + " known: store, kubernetes[:[NAMESPACE/]NAME]");
    }

    @Test
    void severalAdvertisedAddressesAreEachCheckedForReplicas() {
        ControllerConfig replicas = new ControllerConfig.Builder().flag("advertiseAddress",
                "ctl-1.example:15012, ctl-2.example:15012", "--advertise-address").build();
        assertThat(replicas.advertiseAddress()).contains("ctl-2.example:15012");
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("advertiseAddress",
                "ctl-1.example:15012,ctl-2.example", "--advertise-address").build())
                .isInstanceOf(ControllerConfig.ConfigException.class)
                .hasMessageContaining("advertiseAddress 'ctl-2.example'").hasMessageContaining("one per controller replica");
    }
}
