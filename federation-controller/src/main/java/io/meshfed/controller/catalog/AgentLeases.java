package io.meshfed.controller.catalog;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent's workloads stay in the catalog only while the agent is alive: when its config stream has been gone for
 * the grace period (a crashed or cut-off VM cannot report its services down), every workload it reported is marked
 * unhealthy, which withdraws it from everyone's snapshot. The agent reports again as soon as it reconnects. Only the
 * leader replica expires agents, and an agent counts as connected while any live replica holds its stream; when a
 * replica starts to lead (at controller start, on one controller) every agent gets the grace period to reconnect.
 */
public final class AgentLeases implements AutoCloseable, io.meshfed.controller.leader.LeaderOnly {
    private static final Logger LOG = LoggerFactory.getLogger(AgentLeases.class);

    private final Store store;
    private final SerialExecutor executor;
    private final Duration grace;
    private final Predicate<String> connected;
    /** Agents with an expiry check scheduled; one each, however often they report. Confined to {@code executor}. */
    private final Set<String> pending = new HashSet<>();
    /** Whether this replica leads, so expires agents; confined to {@code executor}. */
    private boolean leading;

    /**
     * @param timer where the grace periods are timed (a fake one in tests)
     * @param connected whether an agent (by SPIFFE ID) has a config stream now; thread-safe, called on the leases'
     *     own executor
     */
    public AgentLeases(Store store, ScheduledExecutorService timer, Duration grace, Predicate<String> connected) {
        this.store = requireNonNull(store, "store");
        this.executor = SerialExecutor.start("agent-leases", timer);
        this.grace = requireNonNull(grace, "grace");
        this.connected = requireNonNull(connected, "connected");
    }

    @Override
    public void lead() {
        executor.executeIfRunning(() -> {
            leading = true;
            startAll();
            sweepLater();
        });
    }

    /**
     * While leading, every half grace period: an agent whose stream no replica holds gets its grace period, also
     * when its stream ended on another replica (whose own end-of-stream call only reaches its own leases).
     */
    private void sweepLater() {
        executor.schedule(() -> {
            if (!leading) {
                return;
            }
            try {
                for (WorkloadSetRecord set : Records.list(store, Kind.WORKLOADS, WorkloadSetRecord.class)) {
                    if (set.reportedByAgent() && !connected.test(set.agent())) {
                        startLease(set.agent());
                    }
                }
            } catch (RuntimeException e) {
                LOG.warn("cannot look for agents without a config stream: {}", e.toString());
            }
            sweepLater();
        }, grace.dividedBy(2).compareTo(java.time.Duration.ofSeconds(1)) < 0 ? java.time.Duration.ofSeconds(1)
                : grace.dividedBy(2));
    }

    @Override
    public void follow() {
        executor.executeIfRunning(() -> {
            leading = false;
            pending.clear(); // the scheduled checks find nothing pending and do nothing
        });
    }

    /** Gives every agent with reported workloads the grace period to reconnect (when this replica starts to lead). */
    private void startAll() {
        for (WorkloadSetRecord set : Records.list(store, Kind.WORKLOADS, WorkloadSetRecord.class)) {
            if (set.reportedByAgent()) { // a Kubernetes cluster's set is kept by its connector
                disconnected(set.agent());
            }
        }
    }

    /** The agent's stream ended: unless it is back within the grace period, its workloads become unhealthy. */
    public void disconnected(String agent) {
        executor.executeIfRunning(() -> startLease(agent));
    }

    /** The agent reported workloads: without a config stream now, its lease runs as if its stream had just ended. */
    public void reported(String agent) {
        executor.executeIfRunning(() -> {
            if (!connected.test(agent)) {
                startLease(agent);
            }
        });
    }

    /** The agents whose grace period is running, read on the leases' executor. */
    public Set<String> running() {
        return executor.submit(() -> Set.copyOf(pending)).join();
    }

    private void startLease(String agent) {
        executor.checkInContext();
        if (pending.add(agent)) {
            executor.schedule(() -> expireUnlessBack(agent), grace);
        }
    }

    private void expireUnlessBack(String agent) {
        executor.checkInContext();
        if (!pending.remove(agent) || !leading) {
            return;
        }
        if (connected.test(agent)) {
            return;
        }
        try {
            int withdrawn = store.transact(tx -> {
                var set = Records.get(tx, Kind.WORKLOADS, agent, WorkloadSetRecord.class);
                if (set.isEmpty() || set.get().workloads().stream().noneMatch(WorkloadSetRecord.Workload::healthy)) {
                    return 0;
                }
                int n = (int) set.get().workloads().stream().filter(WorkloadSetRecord.Workload::healthy).count();
                Records.put(tx, Kind.WORKLOADS, agent, set.get().allUnhealthy(), StoreTransaction.ANY);
                return n;
            });
            if (withdrawn > 0) {
                LOG.warn("agent {} has had no config stream for {} s: its {} healthy workload(s) are marked"
                        + " unhealthy until it reports again", agent, grace.toSeconds(), withdrawn);
            }
        } catch (RuntimeException e) {
            LOG.warn("cannot expire the workloads of agent {}: {}", agent, e.toString());
        }
    }

    @Override
    public void close() {
        executor.shutdown(Duration.ofSeconds(5));
    }
}
