package io.meshfed.agent;

import io.meshfed.agent.config.AgentConfig;
import io.meshfed.client.ConfigSubscriber;
import io.meshfed.client.NodeSession;
import io.meshfed.client.StateDir;
import io.meshfed.dataplane.MeshProxy;
import io.meshfed.dataplane.ProxyHttp;
import io.meshfed.dataplane.ProxySettings;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running VM agent: the identity from the state directory (renewed at half life), the mesh proxy (inbound mTLS in
 * front of the local services, local listeners for imports), config applied live from the controller or, while it
 * is unreachable, from the snapshot cached on disk, and health checks reported to the controller.
 */
public final class AgentNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentNode.class);

    private final NodeSession session;
    private final MeshProxy proxy;
    private final ConfigSubscriber subscriber;
    private final HealthChecks checks;
    private final ProxyHttp http;
    private final String inbound;

    private AgentNode(NodeSession session, MeshProxy proxy, ConfigSubscriber subscriber, HealthChecks checks,
            ProxyHttp http, String inbound) {
        this.session = session;
        this.proxy = proxy;
        this.subscriber = subscriber;
        this.checks = checks;
        this.http = http;
        this.inbound = inbound;
    }

    public static AgentNode start(AgentConfig config, ProxySettings settings, Clock clock) throws Exception {
        StateDir state = new StateDir(config.stateDir());
        if (!state.hasIdentity()) {
            throw new IllegalStateException(config.stateDir() + " holds no identity: run `meshfed-agent join"
                    + " --controller HOST:PORT --token TOKEN --config " + config.file() + "` first");
        }
        NodeSession session = NodeSession.open(state, clock);
        MeshProxy proxy = null;
        try {
            proxy = MeshProxy.start(session.credentials(), config.inboundListen(), settings, clock);
            InetSocketAddress bound = proxy.inboundAddress().orElseThrow();
            String inbound = config.inboundAdvertise() != null ? config.inboundAdvertise()
                    : config.address() + ":" + bound.getPort();
            MeshProxy p = proxy;
            ConfigSubscriber subscriber = ConfigSubscriber.start(session,
                    snapshot -> p.update(AgentRoutes.of(snapshot, config, snapshot.getNetwork())));
            HealthChecks checks = new HealthChecks(config, session, inbound, subscriber::sessions);
            checks.start();
            ProxyHttp http = new ProxyHttp(config.httpListen(), "meshfed.agent", proxy, subscriber::connected,
                    registry -> config.services().forEach(s -> Gauge.builder("meshfed.agent.service.healthy",
                            () -> checks.healthy(s) ? 1 : 0).tag("service", s.key())
                            .description("1 while the service's health check passes").register(registry)));
            LOG.info("agent {} serving mTLS on {} (advertised {}), health and metrics on http://{}:{}", session.id(),
                    bound, inbound, http.address().getHostString(), http.address().getPort());
            return new AgentNode(session, proxy, subscriber, checks, http, inbound);
        } catch (Exception | Error e) {
            if (proxy != null) {
                proxy.close();
            }
            session.close();
            throw e;
        }
    }

    public MeshProxy proxy() {
        return proxy;
    }

    public ConfigSubscriber subscriber() {
        return subscriber;
    }

    public String id() {
        return session.id().toString();
    }

    /** host:port of the inbound mTLS listener as reported to the controller. */
    public String inbound() {
        return inbound;
    }

    public Optional<InetSocketAddress> httpAddress() {
        return Optional.of(http.address());
    }

    /** Whether the controller holds this agent's latest health results. */
    public boolean reportedCurrent() {
        return checks.reportedCurrent();
    }

    /** Withdraws the services from the catalog, drains open connections, stops. */
    @Override
    public void close() throws IOException {
        checks.withdraw();
        http.close();
        subscriber.close();
        proxy.close();
        session.close();
    }
}
