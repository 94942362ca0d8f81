package io.meshfed.gateway;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.HostPort;
import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.api.v1.Role;
import io.meshfed.client.ConfigSubscriber;
import io.meshfed.client.JoinTokenSource;
import io.meshfed.client.Joiner;
import io.meshfed.client.NodeSession;
import io.meshfed.client.StateDir;
import io.meshfed.dataplane.ProxyHttp;
import io.meshfed.dataplane.ProxySettings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running east-west gateway: joins once (a token is needed only when the state directory holds no identity),
 * serves the data path with the identity from its state directory, applies config snapshots live, and reports
 * itself ready once it has config, which is how other networks learn its address. Snapshots are applied on one
 * serial executor ({@code gateway-config}); the readiness report is asynchronous, so it never delays an ACK.
 */
public final class GatewayNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayNode.class);

    /**
     * How to start. {@code token} may be null when the state directory already holds an identity; {@code
     * tunnelListen} is the tunnel listener's address, null for none.
     */
    public record Options(String controller, String token, String member, String name, StateDir state,
            InetSocketAddress listen, String advertise, InetAddress outboundBind, InetSocketAddress httpListen,
            ProxySettings settings, InetSocketAddress tunnelListen, Duration attestationGrace) {
        public Options {
            attestationGrace = attestationGrace == null ? ATTESTATION_GRACE : attestationGrace;
            if (attestationGrace.isNegative()) {
                throw new IllegalArgumentException("the attestation grace must not be negative: " + attestationGrace);
            }
            requireNonNull(controller, "controller");
            requireNonNull(member, "member");
            requireNonNull(name, "name");
            requireNonNull(state, "state");
            requireNonNull(listen, "listen");
            requireNonNull(outboundBind, "outboundBind");
            settings = settings == null ? ProxySettings.defaults() : settings;
        }

        /** Options with the default attestation grace ({@link #ATTESTATION_GRACE}). */
        public Options(String controller, String token, String member, String name, StateDir state,
                InetSocketAddress listen, String advertise, InetAddress outboundBind, InetSocketAddress httpListen,
                ProxySettings settings, InetSocketAddress tunnelListen) {
            this(controller, token, member, name, state, listen, advertise, outboundBind, httpListen, settings,
                    tunnelListen, null);
        }

        /** Options without a tunnel listener. */
        public Options(String controller, String token, String member, String name, StateDir state,
                InetSocketAddress listen, String advertise, InetAddress outboundBind, InetSocketAddress httpListen,
                ProxySettings settings) {
            this(controller, token, member, name, state, listen, advertise, outboundBind, httpListen, settings, null);
        }
    }

    /**
     * How long the gateway keeps attesting pods by source address after its config stream went down: the controller
     * withdraws a cluster's pod identities as soon as it loses the cluster's watch, but tells gateways only over that
     * stream, and a pod IP freed meanwhile may already be another pod's. A snapshot read from the disk cache at
     * start attests nobody until the stream is up. Not attested, a pod's connection travels as the gateway itself.
     */
    public static final Duration ATTESTATION_GRACE = Duration.ofSeconds(30);

    private final NodeSession session;
    private final Gateway gateway;
    private final ConfigSubscriber subscriber;
    private final ProxyHttp http;
    private final String advertised;
    private final ReadinessReporter readiness;
    private final SerialExecutor config;
    private final ScheduledExecutorService ownTimer; // null when the timer was given

    private GatewayNode(NodeSession session, Gateway gateway, ConfigSubscriber subscriber, ProxyHttp http,
            String advertised, ReadinessReporter readiness, SerialExecutor config, ScheduledExecutorService ownTimer) {
        this.readiness = readiness;
        this.config = config;
        this.ownTimer = ownTimer;
        this.advertised = advertised;
        this.session = session;
        this.gateway = gateway;
        this.subscriber = subscriber;
        this.http = http;
    }

    public static GatewayNode start(Options o, Clock clock) throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gateway-timer");
            t.setDaemon(true);
            return t;
        });
        try {
            return start(o, clock, timer, timer);
        } catch (Exception | Error e) {
            timer.shutdownNow();
            throw e;
        }
    }

    /**
     * As {@link #start(Options, Clock)}, with the timer of the config stream's reconnects and the readiness
     * report's retries given (a fake one in tests); the gateway does not shut it down.
     */
    public static GatewayNode start(Options o, Clock clock, ScheduledExecutorService timer) throws Exception {
        return start(o, clock, timer, null);
    }

    private static GatewayNode start(Options o, Clock clock, ScheduledExecutorService timer,
            ScheduledExecutorService ownTimer) throws Exception {
        if (!o.state().hasIdentity()) {
            if (o.token() == null || o.token().isBlank()) {
                throw new IllegalStateException(o.state().path() + " holds no identity: the first start needs a join token in "
                        + JoinTokenSource.ENVIRONMENT_VARIABLE + " or --token ("
                        + JoinTokenSource.createCommand(o.member(), "gateway") + ")");
            }
            String advertise = o.advertise() != null ? o.advertise()
                    : o.listen().getHostString() + ":" + o.listen().getPort();
            Joiner.join(o.controller(), o.token(), new Joiner.Identity(Role.ROLE_GATEWAY, o.member(), o.name(), null,
                    List.of(advertise)), o.state(), clock);
            LOG.info("joined member {} as gateway {}", o.member(), o.name());
        }
        NodeSession session = NodeSession.open(o.state(), clock);
        Gateway gateway;
        try {
            gateway = Gateway.start(session.credentials(), o.listen(), o.tunnelListen(), o.outboundBind(),
                    o.settings(), clock);
        } catch (Exception e) {
            session.close();
            throw e;
        }
        // The address known now that the listener is bound (the port may have been 0).
        String advertised = o.advertise() != null ? o.advertise()
                : gateway.inboundAddress().getHostString() + ":" + gateway.inboundAddress().getPort();
        String tunnel = gateway.tunnelAddress().map(t -> advertisedTunnel(o.advertise(), t)).orElse("");
        SerialExecutor config = SerialExecutor.start("gateway-config", timer);
        ReadinessReporter readiness = new ReadinessReporter(session.channel(), config, advertised, tunnel);
        java.util.concurrent.atomic.AtomicReference<ConfigSubscriber> stream =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.function.BooleanSupplier fresh = () -> {
            ConfigSubscriber s = stream.get(); // null while the cached snapshot is applied: it attests nobody
            return s != null && s.upWithin(o.attestationGrace());
        };
        gateway.attestWhile(fresh);
        ConfigSubscriber subscriber = ConfigSubscriber.start(session, snapshot -> {
            config.checkInContext();
            gateway.update(snapshot);
            readiness.configApplied();
        }, config);
        stream.set(subscriber);
        ProxyHttp http = o.httpListen() == null ? null : new ProxyHttp(o.httpListen(), "meshfed.gateway",
                gateway.proxy(), subscriber::connected, registry -> io.micrometer.core.instrument.Gauge.builder(
                        "meshfed.gateway.attestation.fresh", fresh, f -> f.getAsBoolean() ? 1 : 0)
                        .description("1 while the gateway attests pods by source address (its config stream is up or"
                                + " was within the grace), 0 while their connections travel as the gateway")
                        .register(registry));
        LOG.info("gateway {} serving mTLS on {}{}{}", session.id(), gateway.inboundAddress(),
                tunnel.isEmpty() ? "" : ", tunnels on " + tunnel,
                http == null ? "" : ", health and metrics on http://" + http.address().getHostString() + ":"
                        + http.address().getPort());
        return new GatewayNode(session, gateway, subscriber, http, advertised, readiness, config, ownTimer);
    }

    /**
     * The tunnel listener's address as other networks dial it: the bound port, on the host of {@code --advertise}
     * when one is given (the address others reach this gateway at), else on the bound host.
     */
    static String advertisedTunnel(String advertise, InetSocketAddress bound) {
        String host = advertise == null ? bound.getHostString() : HostPort.parse(advertise).getHostString();
        return HostPort.format(InetSocketAddress.createUnresolved(host, bound.getPort()));
    }

    public Gateway gateway() {
        return gateway;
    }

    ReadinessReporter readiness() {
        return readiness;
    }

    public ConfigSubscriber subscriber() {
        return subscriber;
    }

    public InetSocketAddress inboundAddress() {
        return gateway.inboundAddress();
    }

    /** The health and metrics listener, when one was asked for. */
    public java.util.Optional<InetSocketAddress> httpAddress() {
        return java.util.Optional.ofNullable(http).map(ProxyHttp::address);
    }

    /** The address other networks dial. */
    public String advertised() {
        return advertised;
    }

    /** The tunnel listener's bound address; empty when it is disabled. */
    public java.util.Optional<InetSocketAddress> tunnelAddress() {
        return gateway.tunnelAddress();
    }

    /**
     * Withdraws from the catalog (not ready) so that other networks stop sending new connections, then drains the
     * open ones and stops.
     */
    @Override
    public void close() throws IOException {
        readiness.reportNotReady();
        if (http != null) {
            http.close();
        }
        subscriber.close();
        config.shutdown(Duration.ofSeconds(5));
        if (ownTimer != null) {
            ownTimer.shutdownNow();
        }
        gateway.close();
        session.close();
    }
}
