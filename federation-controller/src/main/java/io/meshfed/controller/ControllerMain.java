package io.meshfed.controller;

import com.google.protobuf.util.JsonFormat;
import io.meshfed.api.AdminFiles;
import io.meshfed.api.v1.AdminConfig;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.launcher.Foreground;
import io.meshfed.launcher.OneLineErrorHandler;
import io.meshfed.launcher.ProcessLogging;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.SvidCertificates;
import io.meshfed.trust.SvidFiles;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshfed-controller}: runs the controller (the default), or {@code init} bootstraps a federation in a data
 * directory and writes the admin's credentials. {@code ./meshfed controller} and {@code ./meshfed init} run this.
 */
@Command(name = "meshfed controller", mixinStandardHelpOptions = true,
        description = "Run the federation controller on an initialised data directory.",
        subcommands = {ControllerMain.Init.class, MigrateCommand.class})
public final class ControllerMain implements Callable<Integer> {
    /** The prefix of its error lines ({@code meshfed: ...}, like the CLI's). */
    static final String PROGRAM = "meshfed";

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Data directory (default ./meshfed-data).")
    String dataDir;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file.")
    Path configFile;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "gRPC over mTLS (default "
            + ControllerConfig.DEFAULT_LISTEN + ").")
    String listen;

    @Option(names = "--http-listen", paramLabel = "HOST:PORT",
            description = "HTTPS: /healthz, /readyz, /metrics, JSON admin API (default "
                    + ControllerConfig.DEFAULT_HTTP_LISTEN + ").")
    String httpListen;

    @Option(names = "--probe-listen", paramLabel = "HOST:PORT",
            description = "Plain HTTP for probes and scrapers: /healthz, /readyz, /metrics only (default: off).")
    String probeListen;

    @Option(names = "--bundle-endpoint-listen", paramLabel = "HOST:PORT",
            description = "The https_web SPIFFE bundle endpoint, GET /.well-known/spiffe-bundle/TRUST-DOMAIN"
                    + " (default: off; needs --bundle-endpoint-cert-file and --bundle-endpoint-key-file).")
    String bundleEndpointListen;

    @Option(names = "--bundle-endpoint-cert-file", paramLabel = "FILE",
            description = "The https_web bundle endpoint's web PKI certificate chain (PEM).")
    String bundleEndpointCertFile;

    @Option(names = "--bundle-endpoint-key-file", paramLabel = "FILE",
            description = "The https_web bundle endpoint's private key (PEM).")
    String bundleEndpointKeyFile;

    @Option(names = "--advertise-address", paramLabel = "HOST:PORT",
            description = "Address joiners are told to use (default: --listen).")
    String advertise;

    @Option(names = "--outbound-port-range", paramLabel = "FIRST-LAST",
            description = "Where each importing network's outbound listen ports come from (default "
                    + "20000-32767; no meshfed port may lie in it).")
    String outboundPortRange;

    @Option(names = "--store", paramLabel = "LOCATION",
            description = "Where the state is kept: sqlite:PATH (default sqlite:DATA-DIR/state.db) or"
                    + " postgres://USER@HOST[:PORT]/DATABASE, shared by replicas. Never with a password in it.")
    String store;

    @Option(names = "--store-password-file", paramLabel = "FILE",
            description = "The store database's password, in a file (or in MESHFED_STORE_PASSWORD).")
    String storePasswordFile;

    @Option(names = "--leader-lease", paramLabel = "LEASE",
            description = "Where replicas on one PostgreSQL elect their leader: store (default, a record in the"
                    + " store) or kubernetes[:[NAMESPACE/]NAME] (a coordination.k8s.io Lease, for replicas in a"
                    + " cluster; default meshfed-controller-leader in the pod's namespace).")
    String leaderLease;

    @Option(names = "--debug", description = "Debug logging, including the effective configuration.")
    boolean debug;

    public static void main(String[] args) {
        boolean debug = Arrays.asList(args).contains("--debug");
        configureLogging(debug);
        CommandLine cli = new CommandLine(new ControllerMain());
        cli.setExecutionExceptionHandler(new OneLineErrorHandler(PROGRAM, ControllerMain::message, debug));
        System.exit(cli.execute(args));
    }

    static String message(Exception e) {
        if (e instanceof java.net.BindException) {
            return "cannot listen: " + e.getMessage() + " (is the port taken? choose another with --listen/--http-listen)";
        }
        if (e.getCause() instanceof java.net.BindException bind) {
            return "cannot listen: " + bind.getMessage()
                    + " (is the port taken? choose another with --listen/--http-listen)";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    static void configureLogging(boolean debug) {
        ProcessLogging.configure("org.flywaydb");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", debug ? "debug" : "info");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "true");
    }

    @Override
    public Integer call() throws Exception {
        ControllerConfig.Builder builder = new ControllerConfig.Builder();
        if (configFile != null) {
            builder.yaml(configFile);
        }
        builder.environment(System.getenv())
                .flag("dataDir", dataDir, "--data-dir")
                .flag("listen", listen, "--listen")
                .flag("httpListen", httpListen, "--http-listen")
                .flag("probeListen", probeListen, "--probe-listen")
                .flag("advertiseAddress", advertise, "--advertise-address")
                .flag("bundleEndpointListen", bundleEndpointListen, "--bundle-endpoint-listen")
                .flag("bundleEndpointCertFile", bundleEndpointCertFile, "--bundle-endpoint-cert-file")
                .flag("bundleEndpointKeyFile", bundleEndpointKeyFile, "--bundle-endpoint-key-file")
                .flag("outboundPortRange", outboundPortRange, "--outbound-port-range")
                .flag("store", store, "--store")
                .flag("storePasswordFile", storePasswordFile, "--store-password-file")
                .flag("leaderLease", leaderLease, "--leader-lease");
        ControllerConfig config = builder.build();
        org.slf4j.LoggerFactory.getLogger(ControllerMain.class).debug("effective configuration: {}",
                builder.describe());
        Controller controller = Controller.start(config, Clock.systemUTC());
        return Foreground.of(PROGRAM).serveUntilShutdown(controller, "meshfed controller ready: gRPC "
                + hostPort(controller.grpcAddress()) + ", HTTPS " + hostPort(controller.httpAddress())
                + controller.probeAddress().map(a -> ", probes HTTP " + hostPort(a)).orElse(""));
    }

    static String hostPort(java.net.InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    /** {@code meshfed init}: creates the federation and the admin's credentials. */
    @Command(name = "init", mixinStandardHelpOptions = true,
            description = {"Bootstrap a federation: its trust domain and CA in DIR, and admin credentials in",
                "$MESHFED_HOME (default $HOME/.meshfed), owner-only. Running it again keeps the federation and",
                "renews the admin credentials."})
    static final class Init implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--controller", required = true, paramLabel = "HOST:PORT",
                description = "Where the controller will listen (gRPC), or every replica's address, comma-separated;"
                        + " saved for the admin commands.")
        String controller;

        @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "The controller's data directory.")
        Path dataDir;

        @Option(names = "--trust-domain", paramLabel = "TD", defaultValue = "meshfed.local",
                description = "The federation's trust domain (default ${DEFAULT-VALUE}).")
        String trustDomain;

        @Option(names = "--admin-ttl", paramLabel = "HOURS", defaultValue = "720",
                description = "Lifetime of the admin certificate in hours (default ${DEFAULT-VALUE}).")
        long adminTtlHours;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try {
                io.meshfed.api.ControllerAddresses.parse(controller); // one, or every replica's, comma-separated
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--controller '" + controller + "': " + e.getMessage());
            }
            if (adminTtlHours < 1) {
                throw new IllegalArgumentException("--admin-ttl must be at least 1 hour");
            }
            TrustDomain td = TrustDomain.parse(trustDomain);
            boolean existed = FederationIdentity.isInitialised(dataDir);
            FederationIdentity identity = FederationIdentity.initialise(dataDir, td, Clock.systemUTC());
            X509Svid admin = identity.issueLocal(identity.adminId(), Duration.ofHours(adminTtlHours));
            Path home = AdminFiles.home(System.getenv());
            Files.createDirectories(home);
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
            SvidFiles.write(admin, home.resolve(AdminFiles.CERTIFICATE), home.resolve(AdminFiles.KEY));
            Files.writeString(home.resolve(AdminFiles.BUNDLE),
                    SpiffeBundleJson.encode(identity.bundle(identity.federationTrustDomain())));
            Files.writeString(home.resolve(AdminFiles.CONFIG), JsonFormat.printer().print(AdminConfig.newBuilder()
                    .setControllerAddress(controller).setTrustDomain(td.name()).build()) + "\n");
            var root = identity.ca(td).rootCertificates().get(0);
            out.println((existed ? "Federation " + td + " already exists in " + dataDir + "; kept it"
                    : "Initialised federation " + td + " in " + dataDir));
            out.printf("  federation CA   %s (root sha256 %s)%n", dataDir.resolve(FederationIdentity.CA_DIR)
                    .resolve(td.name()), SvidCertificates.sha256Fingerprint(root));
            out.printf("  key encryption  %s (owner-only)%n", dataDir.resolve(FederationIdentity.KEK_FILE));
            out.printf("  admin identity  %s, valid until %s%n", admin.id(), admin.notAfter());
            out.printf("  credentials     %s (%s, %s owner-only, %s, %s)%n", home, AdminFiles.CERTIFICATE,
                    AdminFiles.KEY, AdminFiles.BUNDLE, AdminFiles.CONFIG);
            out.printf("  controller      %s%n", controller);
            out.printf("Next: meshfed controller --data-dir %s --listen %s%n", dataDir, controller);
            return 0;
        }
    }
}
