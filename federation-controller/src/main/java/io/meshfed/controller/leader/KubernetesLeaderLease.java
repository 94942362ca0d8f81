package io.meshfed.controller.leader;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.meshfed.controller.model.LeaseRecord;
import io.meshfed.controller.store.Store;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The lease as a Kubernetes {@code coordination.k8s.io/v1} Lease, for replicas that run in a cluster: won and renewed
 * by compare-and-set on its {@code resourceVersion}, with {@code holderIdentity}, {@code leaseDurationSeconds},
 * {@code acquireTime}, {@code renewTime} and {@code leaseTransitions} (the epoch) as client-go's leader election
 * writes them, so {@code kubectl get lease} shows who leads. It is only the election: the fencing token stays in the
 * store. A replica that wins the Lease then claims the store's {@code Lease/leader} record for its epoch, in a
 * transaction that refuses an epoch not above the record's, and every renewal first checks that the record is still
 * its own. The epoch won is above both the Lease's and the record's, so a Lease deleted and created again (its
 * transitions start over) cannot hand out an epoch that was fenced before.
 */
final class KubernetesLeaderLease implements LeaderLease {
    static final String SCHEME = "kubernetes";
    static final String DEFAULT_NAME = "meshfed-controller-leader";
    /** How far a Lease's epoch may be ahead of the store's record before the record's is taken instead. */
    static final long MAX_EPOCH_LEAD = 1000;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KubernetesLeaderLease.class);
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("(?=.{1,253}$)" + DNS_LABEL + "(\\." + DNS_LABEL
            + ")*");
    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String namespace;
    private final String name;
    private final int durationSeconds;
    private final Store store;
    /** The Lease as last read, so a write keeps what others put on it (labels, annotations). */
    private volatile Lease lastRead;

    KubernetesLeaderLease(KubernetesClient client, boolean ownsClient, String namespace, String name, Duration ttl,
            Store store) {
        this.client = requireNonNull(client, "client");
        this.ownsClient = ownsClient;
        this.namespace = requireNonNull(namespace, "namespace");
        this.name = requireNonNull(name, "name");
        this.durationSeconds = (int) Math.max(1, (ttl.toMillis() + 999) / 1000);
        this.store = requireNonNull(store, "store");
    }

    @Override
    public String describe() {
        return "Kubernetes Lease " + namespace + "/" + name;
    }

    private Resource<Lease> resource() {
        return client.leases().inNamespace(namespace).withName(name);
    }

    @Override
    public Optional<State> read() {
        Lease lease;
        try {
            lease = resource().get();
        } catch (KubernetesClientException e) {
            throw failure("cannot read", e);
        }
        lastRead = lease;
        return Optional.ofNullable(lease).map(KubernetesLeaderLease::state);
    }

    private static State state(Lease l) {
        Integer transitions = l.getSpec() == null ? null : l.getSpec().getLeaseTransitions();
        return new State(l.getSpec() == null ? "" : l.getSpec().getHolderIdentity(),
                transitions == null ? 0 : transitions, l.getMetadata().getResourceVersion());
    }

    @Override
    public long take(Optional<State> seen, String holder) {
        long fenced = FenceRecord.read(store).map(LeaseRecord::epoch).orElse(0L);
        long leaseEpoch = seen.map(State::epoch).orElse(0L);
        if (leaseEpoch > fenced + MAX_EPOCH_LEAD) {
            // Epochs rise by one per takeover: a Lease this far ahead of the store was written by hand (or by a
            // stolen token, to exhaust the epochs). The store's record decides.
            LOG.warn("the {} claims epoch {}, far above the store's {}; taking epoch {}", describe(), leaseEpoch,
                    fenced, fenced + 1);
            leaseEpoch = fenced;
        }
        long epoch = Math.max(leaseEpoch, fenced) + 1;
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        Lease desired = new LeaseBuilder(base(seen)).editOrNewSpec().withHolderIdentity(holder)
                .withLeaseDurationSeconds(durationSeconds).withAcquireTime(now).withRenewTime(now)
                .withLeaseTransitions((int) Math.min(epoch, Integer.MAX_VALUE)).endSpec().build();
        if (!write(desired, seen.isEmpty())) {
            return 0;
        }
        if (!FenceRecord.claim(store, holder, epoch)) {
            release(holder, epoch); // a replica with a higher epoch fenced the store meanwhile: let it lead
            return 0;
        }
        return epoch;
    }

    @Override
    public boolean renew(State seen, String holder, long epoch) {
        if (!seen.heldBy(holder, epoch) || !FenceRecord.heldBy(store, holder, epoch)) {
            return false; // the store is fenced for another epoch: this replica must not act as leader
        }
        Lease desired = new LeaseBuilder(base(Optional.of(seen))).editOrNewSpec()
                .withLeaseDurationSeconds(durationSeconds).withRenewTime(ZonedDateTime.now(ZoneOffset.UTC)).endSpec()
                .build();
        return write(desired, false);
    }

    @Override
    public void release(String holder, long epoch) {
        Optional<State> current = read();
        if (current.isPresent() && current.get().heldBy(holder, epoch)) {
            ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
            // As client-go releases: no holder, a one-second duration, the transitions kept.
            write(new LeaseBuilder(base(current)).editOrNewSpec().withHolderIdentity(null).withLeaseDurationSeconds(1)
                    .withAcquireTime(now).withRenewTime(now).endSpec().build(), false);
        }
        FenceRecord.free(store, holder, epoch);
    }

    /** The Lease to change: the one last read when it is the version seen, else a new one at that version. */
    private Lease base(Optional<State> seen) {
        Lease last = lastRead;
        if (seen.isPresent() && last != null && seen.get().version().equals(last.getMetadata().getResourceVersion())) {
            return last;
        }
        return new LeaseBuilder().withNewMetadata().withNamespace(namespace).withName(name)
                .withResourceVersion(seen.map(State::version).orElse(null)).endMetadata().withNewSpec().endSpec()
                .build();
    }

    /** Creates or replaces the Lease at the version it carries; false when another replica wrote it first. */
    private boolean write(Lease desired, boolean create) {
        try {
            lastRead = create ? client.resource(desired).create() : client.resource(desired).update();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false;
            }
            throw failure(create ? "cannot create" : "cannot update", e);
        }
    }

    /** The API server's answer, or the cause of no answer (a refused connection, a timeout). */
    private IllegalStateException failure(String what, KubernetesClientException e) {
        String reason = e.getStatus() != null && e.getStatus().getMessage() != null
                ? e.getCode() + " " + e.getStatus().getMessage() : null;
        if (reason == null) {
            java.util.List<String> causes = new java.util.ArrayList<>();
            for (Throwable t = e.getCause(); t != null && causes.size() < 4; t = t.getCause()) {
                if (!(t instanceof java.util.concurrent.ExecutionException
                        || t instanceof java.util.concurrent.CompletionException)) {
                    causes.add(t.getClass().getSimpleName() + (t.getMessage() == null ? "" : " (" + t.getMessage()
                            + ")"));
                }
            }
            reason = causes.isEmpty() ? null : String.join(", from ", causes);
        }
        return new IllegalStateException(what + " the " + describe() + ": " + (reason == null ? e.getMessage()
                : reason), e);
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    /**
     * {@code kubernetes}, {@code kubernetes:NAME} or {@code kubernetes:NAMESPACE/NAME}: the Lease's namespace defaults
     * to the client's (in a pod, its own), its name to {@value #DEFAULT_NAME}. The client is configured as kubectl's
     * is: in a pod from its ServiceAccount, else from {@code KUBECONFIG} or {@code ~/.kube/config}.
     */
    static final class Backend implements LeaseBackend {
        @Override
        public String scheme() {
            return SCHEME;
        }

        @Override
        public String form() {
            return SCHEME + "[:[NAMESPACE/]NAME]";
        }

        @Override
        public void check(String location) {
            parse(location);
        }

        /** {namespace or null, name}. */
        private static String[] parse(String location) {
            String rest = location.trim().substring(SCHEME.length());
            if (rest.isEmpty()) {
                return new String[] {null, DEFAULT_NAME};
            }
            if (!rest.startsWith(":") || rest.length() == 1) {
                throw new IllegalArgumentException("'" + location + "' is not a Kubernetes lease: write " + SCHEME
                        + ", " + SCHEME + ":NAME or " + SCHEME + ":NAMESPACE/NAME");
            }
            String[] parts = rest.substring(1).split("/", -1);
            if (parts.length > 2) {
                throw new IllegalArgumentException("'" + location + "' has more than one '/': write " + SCHEME
                        + ":NAMESPACE/NAME");
            }
            String namespace = parts.length == 2 ? parts[0] : null;
            String name = parts[parts.length - 1];
            if (namespace != null && !DNS_LABEL.matcher(namespace).matches()) {
                throw new IllegalArgumentException("'" + namespace + "' in " + location + " is not a namespace name"
                        + " (a DNS label: lower-case letters, digits and '-', at most 63)");
            }
            if (!DNS_SUBDOMAIN.matcher(name).matches()) {
                throw new IllegalArgumentException("'" + name + "' in " + location + " is not a Lease name (a DNS"
                        + " subdomain: lower-case letters, digits, '-' and '.', at most 253)");
            }
            return new String[] {namespace, name};
        }

        @Override
        public LeaderLease open(String location, Store store, Duration ttl) {
            String[] where = parse(location);
            Config config = Config.autoConfigure(null);
            config.setUserAgent("meshfed-controller");
            long bound = Math.max(500, ttl.toMillis() / 3); // a hung call must not outlast the lease
            config.setRequestTimeout((int) bound);
            config.setConnectionTimeout((int) bound);
            config.setRequestRetryBackoffLimit(0); // the election retries every round on its own
            if (config.getMasterUrl() != null && config.getMasterUrl().startsWith("http:")) {
                config.setHttp2Disable(true); // no h2c upgrade in clear text (kubectl proxy, test servers)
            }
            String namespace = where[0] != null ? where[0] : config.getNamespace();
            if (namespace == null || namespace.isBlank()) {
                throw new IllegalArgumentException("leaderLease " + location + " names no namespace and the"
                        + " Kubernetes client has none (not in a pod, no namespace in the kubeconfig's context):"
                        + " write " + SCHEME + ":NAMESPACE/" + where[1]);
            }
            KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
            return new KubernetesLeaderLease(client, true, namespace, where[1], ttl, store);
        }
    }
}
