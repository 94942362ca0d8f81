package io.meshfed.controller.connector.consul;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.OperationException;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.Response;
import com.ecwid.consul.v1.health.HealthServicesRequest;
import com.ecwid.consul.v1.health.model.HealthService;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.text.ReportedText;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a Consul datacenter's catalog with blocking queries and hands on the workloads of the services it exports:
 * one watch of {@code /v1/catalog/services} decides which services those are (the tag {@code meshfed-export}, or a
 * name an export policy gives), and one watch of {@code /v1/health/service/:name} per such service reads its
 * instances and their checks. Every watch follows the index rules ({@link BlockingIndex}), never queries again
 * sooner than {@link #MIN_INTERVAL} after an answer whose index did not move, and backs off with jitter (1 s doubling
 * to 30 s) after an error. The listener gets an {@link Answer} each time the set or the watch's progress changes,
 * and every error with its reason. An answer says, as of the moment it was made, whether it is settled and synced:
 * read at the listener's later time, the watch's flags could already count an answer that the listener has not got.
 */
public final class ConsulCatalogWatch implements AutoCloseable {
    /** The tag that exports a Consul service into the federation. */
    public static final String EXPORT_TAG = io.meshfed.api.ConsulNames.EXPORT_TAG;
    /**
     * The tag of what meshfed publishes into Consul (the member's imports): never read back as an export, so an
     * import cannot come back as this member's own service.
     */
    public static final String IMPORT_TAG = io.meshfed.api.ConsulNames.IMPORT_TAG;
    /** At most this many services are watched; more are left out and reported. */
    static final int MAX_SERVICES = 2_000;
    /** How an error reason begins when the catalog itself could not be read. */
    static final String CATALOG = "catalog/services";
    /** How the error reason begins when there are more exported services than are watched. */
    static final String TOO_MANY = "too many services";
    /** What an error reason says when no answer came at all. */
    static final String UNREACHABLE = "agent unreachable";
    static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(ConsulCatalogWatch.class);

    /**
     * What the watch has read, made under its lock.
     *
     * @param workloads the exported workloads, sorted
     * @param tagged    the names of the services among them that the datacenter itself exports (by the tag; the
     *                  rest are named by an admin's export policy)
     * @param settled   the catalog has been read and every exported service has had an answer (a failure included):
     *                  {@code workloads} is the whole of what can be read, not the first services of a starting watch
     * @param synced    settled, and every exported service was read without failing since
     */
    public record Answer(List<WorkloadSetRecord.Workload> workloads, Set<String> tagged, boolean settled,
            boolean synced) {
        public Answer {
            workloads = List.copyOf(workloads);
            tagged = Set.copyOf(tagged);
        }
    }

    /** What the watch reports. Called from its threads; implementations hand the work on. */
    public interface Listener {
        /** What the watch has read, each time the workloads, the tagged names or the answer's flags change. */
        void changed(Answer answer);

        /** A read failed; {@code reason} names the endpoint and what Consul answered. */
        void error(String reason);
    }

    private final String member;
    private final ConsulClient client;
    private final String token;
    private final String datacenter;
    private final NamespaceFrom namespaceFrom;
    private final Supplier<Set<String>> namedByPolicy;
    private final long waitSeconds;
    private final Listener listener;
    private final Map<String, ServiceWatch> watches = new ConcurrentHashMap<>();
    private final Map<String, List<WorkloadSetRecord.Workload>> instances = new ConcurrentHashMap<>();
    private volatile Map<String, List<String>> lastCatalog;
    private volatile Answer published;
    private volatile Set<String> tagged = Set.of();
    private volatile boolean catalogRead;
    private volatile boolean closed;
    private Thread catalogThread;

    /**
     * @param namedByPolicy the Consul service names that export policies name, read again on {@link #refresh()}
     * @param wait          how long one blocking query may wait (Consul caps it at 10 min)
     */
    public ConsulCatalogWatch(String member, ConsulClient client, String token, String datacenter,
            NamespaceFrom namespaceFrom, Supplier<Set<String>> namedByPolicy, Duration wait, Listener listener) {
        this.member = member;
        this.client = client;
        this.token = token == null || token.isEmpty() ? null : token;
        this.datacenter = datacenter;
        this.namespaceFrom = namespaceFrom;
        this.namedByPolicy = namedByPolicy;
        this.waitSeconds = Math.max(1, wait.toSeconds());
        this.listener = listener;
    }

    public synchronized void start() {
        if (catalogThread != null) {
            throw new IllegalStateException("already started");
        }
        catalogThread = thread("catalog", this::watchCatalog);
    }

    /** Whether the catalog and every exported service have been read, and no read failed since. */
    public synchronized boolean synced() {
        return catalogRead && watches.values().stream().allMatch(w -> w.read);
    }

    /** Whether the catalog has been read and every exported service has had an answer, a failure included. */
    public synchronized boolean settled() {
        return catalogRead && watches.values().stream().allMatch(w -> w.answered);
    }

    /** Re-selects the exported services, after an export policy changed. */
    public void refresh() {
        Map<String, List<String>> c = lastCatalog;
        if (c != null) {
            select(c);
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread t = catalogThread;
        if (t != null) {
            t.interrupt();
        }
        watches.values().forEach(ServiceWatch::stop);
    }

    private void watchCatalog() {
        long index = 0;
        Duration backoff = FIRST_BACKOFF;
        while (!closed) {
            long started = System.nanoTime();
            try {
                Response<Map<String, List<String>>> r = client.getCatalogServices(
                        new QueryParams(datacenter, waitSeconds, index), token);
                long next = BlockingIndex.next(index, r.getConsulIndex());
                backoff = FIRST_BACKOFF;
                catalogAnswered(r.getValue());
                pace(index, next, started);
                index = next;
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                catalogFailed();
                report(CATALOG, e);
                sleep(jittered(backoff));
                backoff = doubled(backoff);
                index = 0;
            }
        }
    }

    private synchronized void catalogAnswered(Map<String, List<String>> catalog) {
        catalogRead = true;
        lastCatalog = catalog;
        select(catalog);
    }

    private synchronized void catalogFailed() {
        catalogRead = false;
        publish();
    }

    private synchronized void select(Map<String, List<String>> catalog) {
        if (closed) {
            return;
        }
        Set<String> policy = namedByPolicy.get();
        Set<String> wanted = new TreeSet<>();
        Set<String> byTag = new TreeSet<>();
        catalog.forEach((name, tags) -> {
            List<String> t = tags == null ? List.of() : tags;
            // What meshfed published here is left out per instance (ConsulInstances), not by name: a native
            // service of the same name stays the datacenter's.
            if (t.contains(EXPORT_TAG) || policy.contains(name)) {
                wanted.add(name);
            }
            if (t.contains(EXPORT_TAG)) {
                byTag.add(name);
            }
        });
        if (wanted.size() > MAX_SERVICES) {
            listener.error(TOO_MANY + ": " + wanted.size() + " exported services, more than " + MAX_SERVICES
                    + "; the rest are left out");
            Set<String> kept = new TreeSet<>();
            wanted.stream().limit(MAX_SERVICES).forEach(kept::add);
            wanted.retainAll(kept);
        }
        watches.keySet().stream().filter(n -> !wanted.contains(n)).toList().forEach(n -> {
            watches.remove(n).stop();
            instances.remove(n);
        });
        for (String n : wanted) {
            watches.computeIfAbsent(n, ServiceWatch::new);
        }
        byTag.retainAll(wanted);
        tagged = Set.copyOf(byTag);
        publish();
    }

    /**
     * Takes a service watch's answer, unless the watch was replaced or stopped meanwhile: under the same lock as
     * {@link #select}, so a service no longer exported cannot come back with its last answer. The watch counts as
     * read in the same step as its instances join the set, so no answer is settled without them.
     */
    private synchronized boolean accept(ServiceWatch from, List<WorkloadSetRecord.Workload> workloads) {
        if (!current(from)) {
            return false;
        }
        instances.put(from.name, workloads);
        from.read = true;
        from.answered = true;
        publish();
        return true;
    }

    /**
     * A service watch's read failed: it has answered, but is not read. A refusal (403) also drops its instances:
     * the token may no longer read them, so nothing of them is vouched for.
     */
    private synchronized void failedRead(ServiceWatch from, boolean forbidden) {
        if (!current(from)) {
            return;
        }
        if (forbidden) {
            instances.put(from.name, List.of());
        }
        from.read = false;
        from.answered = true;
        publish();
    }

    private boolean current(ServiceWatch w) {
        return !closed && !w.stopped && watches.get(w.name) == w;
    }

    private synchronized void publish() {
        List<WorkloadSetRecord.Workload> all = new ArrayList<>();
        instances.values().forEach(all::addAll);
        all.sort(Comparator.comparing(WorkloadSetRecord.Workload::namespace)
                .thenComparing(WorkloadSetRecord.Workload::service).thenComparing(WorkloadSetRecord.Workload::address)
                .thenComparingInt(WorkloadSetRecord.Workload::port));
        Answer now = new Answer(all, tagged, settled(), synced());
        if (!now.equals(published) && !closed) {
            published = now;
            listener.changed(now);
        }
    }

    /** One service's health watch, on its own thread until it is no longer exported. */
    private final class ServiceWatch {
        private final String name;
        private final Thread thread;
        private volatile boolean stopped;
        private boolean read; // read and answered: under the watch's lock
        private boolean answered;

        ServiceWatch(String name) {
            this.name = name;
            this.thread = thread("health-" + name, this::run);
        }

        void stop() {
            stopped = true;
            thread.interrupt();
        }

        private void run() {
            long index = 0;
            Duration backoff = FIRST_BACKOFF;
            String lastLeftOut = "";
            while (!stopped && !closed) {
                long started = System.nanoTime();
                try {
                    HealthServicesRequest request = HealthServicesRequest.newBuilder().setDatacenter(datacenter)
                            .setToken(token).setQueryParams(new QueryParams(datacenter, waitSeconds, index)).build();
                    Response<List<HealthService>> r = client.getHealthServices(name, request);
                    long next = BlockingIndex.next(index, r.getConsulIndex());
                    ConsulInstances.Result result = ConsulInstances.of(name, r.getValue(), namespaceFrom);
                    String leftOut = String.join("; ", result.leftOut());
                    if (!leftOut.isEmpty() && !leftOut.equals(lastLeftOut)) {
                        LOG.warn("consul member {}: {}", member, leftOut);
                    }
                    lastLeftOut = leftOut;
                    if (!accept(this, result.workloads())) {
                        return;
                    }
                    backoff = FIRST_BACKOFF;
                    pace(index, next, started);
                    index = next;
                } catch (RuntimeException e) {
                    if (stopped || closed) {
                        return;
                    }
                    failedRead(this, e instanceof OperationException o && o.getStatusCode() == 403);
                    report("health/service/" + name, e);
                    sleep(jittered(backoff));
                    backoff = doubled(backoff);
                    index = 0;
                }
            }
        }
    }

    /** Waits out the rest of {@link #MIN_INTERVAL} when an answer came back at once with the index unmoved. */
    private void pace(long held, long next, long startedNanos) {
        if (next == held) { // 0 included: an agent that sends no index must not be polled in a loop
            long elapsed = Duration.ofNanos(System.nanoTime() - startedNanos).toMillis();
            if (elapsed < MIN_INTERVAL.toMillis()) {
                sleep(Duration.ofMillis(MIN_INTERVAL.toMillis() - elapsed));
            }
        }
    }

    private void report(String endpoint, RuntimeException e) {
        String reason = endpoint + ": " + reason(e);
        LOG.warn("consul member {}: {}", member, reason);
        listener.error(reason);
    }

    /** Consul's answer (status and its plain-text body), or why no answer came. */
    static String reason(RuntimeException e) {
        if (e instanceof OperationException o) {
            String body = o.getStatusContent() == null ? "" : o.getStatusContent().strip();
            return "HTTP " + o.getStatusCode() + (body.isEmpty() ? "" : " " + printable(body));
        }
        Throwable root = e;
        boolean io = false;
        boolean tls = false;
        boolean tooLarge = false;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            root = t;
            io |= t instanceof java.io.IOException;
            tls |= t instanceof javax.net.ssl.SSLException;
            tooLarge |= t instanceof BoundedResponses.TooLarge;
        }
        String detail = root.getClass().getSimpleName() + (root.getMessage() == null ? ""
                : ": " + printable(root.getMessage()));
        if (tooLarge) {
            return "answer too large (" + detail + ")";
        }
        if (tls) {
            return "TLS to the agent failed (" + detail + ")";
        }
        if (io) {
            return UNREACHABLE + " (" + detail + ")";
        }
        return "unreadable answer (" + detail + ")"; // the agent answered, with something that is not Consul's API
    }

    /** Member-reported text as it may go into logs and status: printable, at most 300 characters. */
    static String printable(String text) {
        return ReportedText.printable(text, 300) + (ReportedText.beyond(text, 300) > 0 ? "…" : "");
    }

    private static Duration jittered(Duration d) {
        long ms = d.toMillis();
        return Duration.ofMillis(ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1));
    }

    private static Duration doubled(Duration d) {
        Duration twice = d.multipliedBy(2);
        return twice.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : twice;
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Thread thread(String what, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (RuntimeException e) {
                LOG.error("consul member {}: {} watch ended", member, what, e);
            }
        }, "consul-" + member + "-" + what);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
