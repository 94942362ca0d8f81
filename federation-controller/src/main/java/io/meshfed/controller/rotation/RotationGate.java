package io.meshfed.controller.rotation;

import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.controller.model.RotationRecord;
import io.meshfed.controller.model.RotationRecord.Phase;
import io.meshfed.trust.SpiffeId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Whether a rotation's phase may end, and who holds it up: a pure function of the rotation, what the subscribers
 * report now and what the member clusters' ConfigMaps hold.
 * <ul>
 * <li>add-root: every participant (connected now, or seen connected since the rotation began and not revoked) has
 * ACKed a snapshot with the rotation's bundle version, and every Kubernetes member's trust bundle ConfigMap holds
 * it;</li>
 * <li>issue and aborting: every participant of the rotating trust domain reports an SVID that chains to the root
 * subscribers renew toward, or the longest SVID lifetime has passed since the phase began (every SVID of the
 * leaving chain has expired by then).</li>
 * </ul>
 * Every phase lasts at least the rotation's soak.
 */
final class RotationGate {
    /** The gate's state: open, or who holds it (one line each), and when time alone opens it. */
    record Verdict(boolean open, List<String> waitingFor, Optional<Instant> deadline) {}

    /** What the gate reads. {@code revoked}: identities that cannot come back. */
    record Inputs(List<SubscriberStatus> subscribers, Map<String, Long> clusterBundleVersions, Set<String> revoked,
            String targetRootSha256, Duration longestLifetime, Instant now) {}

    private RotationGate() {}

    static Verdict evaluate(RotationRecord r, Inputs in) {
        List<String> waiting = new ArrayList<>();
        Optional<Instant> deadline = Optional.empty();
        // One identity may hold several streams: each of them must agree.
        Map<String, SubscriberStatus> connected = in.subscribers().stream().collect(Collectors.toMap(
                SubscriberStatus::getSpiffeId, Function.identity(), RotationGate::behind));
        Set<String> participants = new TreeSet<>(r.participants());
        participants.addAll(connected.keySet());
        participants.removeAll(in.revoked());
        Instant phaseSince = Instant.ofEpochMilli(r.phaseSinceMillis());
        if (r.phase() == Phase.ADD_ROOT) {
            for (String id : participants) {
                SubscriberStatus s = connected.get(id);
                if (s == null) {
                    waiting.add(id + " is not connected (it must ACK bundle version " + r.bundleVersion() + ")");
                } else if (s.getAckedBundleVersion() < r.bundleVersion()) {
                    waiting.add(id + " has not ACKed bundle version " + r.bundleVersion() + " (ACKed "
                            + s.getAckedBundleVersion() + ")" + (s.getLastError().isEmpty() ? ""
                                    : "; it rejected a snapshot: " + s.getLastError()));
                }
            }
            in.clusterBundleVersions().forEach((cluster, version) -> {
                if (version < r.bundleVersion()) {
                    waiting.add("cluster " + cluster + "'s trust bundle ConfigMap holds "
                            + (version < 0 ? "no version yet" : "version " + version) + ", not "
                            + r.bundleVersion());
                }
            });
        } else if (r.phase() == Phase.ISSUE || r.phase() == Phase.ABORTING) {
            Instant expiry = phaseSince.plus(in.longestLifetime());
            deadline = Optional.of(expiry);
            boolean expired = !in.now().isBefore(expiry);
            for (String id : participants) {
                if (!SpiffeId.parse(id).trustDomain().name().equals(r.trustDomain())) {
                    continue;
                }
                SubscriberStatus s = connected.get(id);
                if (s == null) {
                    waiting.add(id + " is not connected (its SVID must chain to the "
                            + (r.phase() == Phase.ISSUE ? "new" : "old") + " root)");
                } else if (s.getSvidRootSha256().isEmpty()) {
                    waiting.add(id + " has not reported its SVID");
                } else if (!s.getSvidRootSha256().equals(in.targetRootSha256())) {
                    waiting.add(id + "'s SVID chains to the " + (r.phase() == Phase.ISSUE ? "old" : "new") + " root");
                }
            }
            if (expired) {
                waiting.clear(); // every SVID of the leaving chain has expired
            }
        }
        Instant soakEnd = phaseSince.plusMillis(r.soakMillis());
        if (in.now().isBefore(soakEnd)) {
            waiting.add("soak: the phase lasts until " + soakEnd);
        }
        return new Verdict(waiting.isEmpty(), List.copyOf(waiting), deadline);
    }

    /** Of two streams of one identity, the one further behind: the lower ACKed version, then no SVID reported. */
    private static SubscriberStatus behind(SubscriberStatus a, SubscriberStatus b) {
        if (a.getAckedBundleVersion() != b.getAckedBundleVersion()) {
            return a.getAckedBundleVersion() < b.getAckedBundleVersion() ? a : b;
        }
        return a.getSvidRootSha256().isEmpty() ? a : b;
    }
}
