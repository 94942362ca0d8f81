package io.meshfed.agent;

import io.meshfed.agent.config.AgentConfig;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.client.NodeSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks each local service every interval (an HTTP GET of its check path answering 2xx or 3xx, or a TCP connect)
 * and reports the set to the controller whenever a result changes, so an unhealthy service is withdrawn within one
 * interval plus the report; and again after each new config stream, because a controller that lost the stream for
 * its grace period has marked this agent's services unhealthy. A report that fails is retried at the next check. {@link #withdraw} reports every
 * service unhealthy (on shutdown, before draining).
 */
final class HealthChecks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthChecks.class);

    private final AgentConfig config;
    private final NodeSession session;
    private final String inbound;
    private final HttpClient http;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "health-checks");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Boolean> healthy = new LinkedHashMap<>(); // guarded by this
    private Map<String, Boolean> reported; // guarded by this
    private final java.util.function.LongSupplier sessions;
    private long reportedSession = -1; // guarded by this

    HealthChecks(AgentConfig config, NodeSession session, String inbound, java.util.function.LongSupplier sessions) {
        this.sessions = sessions;
        this.config = config;
        this.session = session;
        this.inbound = inbound;
        this.http = HttpClient.newBuilder().connectTimeout(config.checkTimeout()).build();
        config.services().forEach(s -> healthy.put(s.key(), false));
    }

    void start() {
        timer.scheduleWithFixedDelay(this::checkAndReport, 0, config.checkInterval().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** Whether the last check of the service passed. */
    synchronized boolean healthy(AgentConfig.LocalService s) {
        return healthy.getOrDefault(s.key(), false);
    }

    /** Whether the controller holds the latest results. */
    synchronized boolean reportedCurrent() {
        return healthy.equals(reported);
    }

    private void checkAndReport() {
        try {
            for (AgentConfig.LocalService s : config.services()) {
                boolean ok = check(s);
                synchronized (this) {
                    Boolean before = healthy.put(s.key(), ok);
                    if (before != null && before != ok) {
                        LOG.info("{} is now {}", s.key(), ok ? "healthy" : "unhealthy");
                    }
                }
            }
            Map<String, Boolean> current;
            long session = sessions.getAsLong();
            synchronized (this) {
                current = Map.copyOf(healthy);
                if (current.equals(reported) && session == reportedSession) {
                    return;
                }
            }
            if (report(current)) {
                synchronized (this) {
                    reported = current;
                    reportedSession = session;
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("health check round failed: {}", e.toString());
        }
    }

    private boolean check(AgentConfig.LocalService s) {
        InetSocketAddress t = s.target();
        if (s.checkHttpPath() != null) {
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + t.getHostString()
                        + ":" + t.getPort() + s.checkHttpPath())).timeout(config.checkTimeout()).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                return r.statusCode() >= 200 && r.statusCode() < 400;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(t.getHostString(), t.getPort()),
                    Math.toIntExact(config.checkTimeout().toMillis()));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private boolean report(Map<String, Boolean> results) {
        WorkloadReport.Builder report = WorkloadReport.newBuilder();
        for (AgentConfig.LocalService s : config.services()) {
            report.addWorkloads(WorkloadInstance.newBuilder().setService(s.name()).setNamespace(s.namespace())
                    .setAddress(config.address()).setPort(s.port()).setHealthy(results.getOrDefault(s.key(), false))
                    .setLocality(config.locality()).setInbound(inbound).setWeight(s.weight()));
        }
        try {
            RegistrationServiceGrpc.newBlockingStub(session.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .reportWorkloads(report.build());
            LOG.info("reported {} service(s) to the controller: {}", results.size(), results);
            return true;
        } catch (RuntimeException e) {
            LOG.warn("cannot report health to the controller (retrying at the next check): {}", e.getMessage());
            return false;
        }
    }

    /** Reports every service unhealthy, so peers stop sending new connections. */
    void withdraw() {
        timer.shutdownNow();
        Map<String, Boolean> down = new LinkedHashMap<>();
        config.services().forEach(s -> down.put(s.key(), false));
        if (!config.services().isEmpty()) {
            report(down);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
