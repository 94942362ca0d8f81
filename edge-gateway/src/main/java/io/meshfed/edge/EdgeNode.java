package io.meshfed.edge;

import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Role;
import io.meshfed.client.ConfigSubscriber;
import io.meshfed.client.JoinTokenSource;
import io.meshfed.client.Joiner;
import io.meshfed.client.NodeSession;
import io.meshfed.client.StateDir;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge gateway's membership: joins once (role edge; a token is needed only when the state directory holds no
 * identity), renews at half life, follows the config stream (applying the cached snapshot first when the
 * controller is away) and hands each snapshot to the listener.
 */
public final class EdgeNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EdgeNode.class);

    private final NodeSession session;
    private final ConfigSubscriber subscriber;
    private final MeshUpstreams upstreams;

    private EdgeNode(NodeSession session, ConfigSubscriber subscriber, MeshUpstreams upstreams) {
        this.upstreams = upstreams;
        this.session = session;
        this.subscriber = subscriber;
    }

    static EdgeNode start(EdgeProperties p, Consumer<ConfigSnapshot> listener, Clock clock) throws Exception {
        return start(p, s -> { }, listener, clock);
    }

    /** As {@link #start(EdgeProperties, Consumer, Clock)}; {@code check} throws to NACK a snapshot first. */
    static EdgeNode start(EdgeProperties p, Consumer<ConfigSnapshot> check, Consumer<ConfigSnapshot> listener,
            Clock clock) throws Exception {
        String problem = p.problem();
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
        StateDir state = new StateDir(Path.of(p.stateDir()));
        if (!state.hasIdentity()) {
            String token = JoinTokenSource.resolve(p.token(), System.getenv()).orElseThrow(() ->
                    new IllegalStateException(p.stateDir() + " holds no identity: the first start needs a join token in "
                            + JoinTokenSource.ENVIRONMENT_VARIABLE + " (" + JoinTokenSource.createCommand(p.member(), "edge")
                            + ")"));
            Joiner.join(p.controller(), token, new Joiner.Identity(Role.ROLE_EDGE, p.member(), p.name(), null,
                    List.of()), state, clock);
            LOG.info("joined member {} as edge gateway {}", p.member(), p.name());
        }
        NodeSession session = NodeSession.open(state, clock);
        MeshUpstreams upstreams;
        try {
            upstreams = new MeshUpstreams(session.credentials(), clock);
        } catch (Exception e) {
            session.close();
            throw e;
        }
        ConfigSubscriber subscriber = ConfigSubscriber.start(session, s -> {
            FederatedRoutes.validate(s);
            check.accept(s);
            upstreams.update(s);
            listener.accept(s);
        });
        return new EdgeNode(session, subscriber, upstreams);
    }

    MeshUpstreams upstreams() {
        return upstreams;
    }

    /** This edge gateway's SVID and bundles, renewed in place. */
    io.meshfed.trust.tls.TlsCredentials credentials() {
        return session.credentials();
    }

    public String id() {
        return session.id().toString();
    }

    @Override
    public void close() {
        subscriber.close();
        upstreams.close();
        session.close();
    }
}
