package io.meshfed.controller.identity;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.util.Timestamps;
import io.meshfed.api.v1.IdentityInfo;
import io.meshfed.api.v1.IdentityList;
import io.meshfed.api.v1.ListIdentitiesRequest;
import io.meshfed.api.v1.RevokeIdentityRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.model.IdentityRecord;
import io.meshfed.controller.model.JoinTokenRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.ServiceScope;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.trust.InvalidSpiffeIdException;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record of joined identities, for admins: list them, and revoke one. Revoking marks the record (which every
 * replica's {@link RevokedIdentities} follows), and in the same transaction withdraws what the identity reported
 * ({@link ReportWithdrawal}):
 * an agent's workloads and a gateway's or edge's gateway record, so no snapshot routes to it any more.
 */
public final class IdentityOperations {
    private static final Logger LOG = LoggerFactory.getLogger(IdentityOperations.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");

    private final Store store;
    private final Clock clock;
    private final ReportWithdrawal withdrawal;

    public IdentityOperations(Store store, Clock clock, ReportWithdrawal withdrawal) {
        this.store = requireNonNull(store, "store");
        this.clock = requireNonNull(clock, "clock");
        this.withdrawal = requireNonNull(withdrawal, "withdrawal");
    }

    public IdentityList list(ListIdentitiesRequest request) {
        String member = request.getMember();
        if (!member.isEmpty() && Records.get(store, Kind.MEMBER, member, MemberRecord.class).isEmpty()) {
            throw new NotFoundException("member '" + member + "' does not exist; 'meshfed members' lists"
                    + " them");
        }
        return IdentityList.newBuilder().addAllIdentities(Records.list(store, Kind.IDENTITY, IdentityRecord.class)
                .stream().filter(r -> member.isEmpty() || r.member().equals(member))
                .sorted(Comparator.comparing(IdentityRecord::member).thenComparing(IdentityRecord::spiffeId))
                .map(IdentityOperations::info).toList()).build();
    }

    /** Revokes (idempotent: a second call changes nothing and answers the same). */
    public IdentityInfo revoke(RevokeIdentityRequest request) {
        String id = request.getSpiffeId();
        try {
            SpiffeId.parse(id);
        } catch (InvalidSpiffeIdException e) {
            throw new InvalidArgumentException("'" + id + "' is not a SPIFFE ID: " + e.getMessage(), e);
        }
        record Outcome(IdentityRecord record, boolean changed, ReportWithdrawal.Withdrawn withdrawn) {}
        Outcome outcome = store.transact(tx -> {
            IdentityRecord current = Records.get(tx, Kind.IDENTITY, id, IdentityRecord.class).orElseThrow(() ->
                    new NotFoundException("no identity " + id + " joined this federation; 'meshfed"
                            + " identity list' shows those that did"));
            if (current.revoked()) {
                return new Outcome(current, false, new ReportWithdrawal.Withdrawn(0, false));
            }
            IdentityRecord revoked = current.revokedAt(clock.millis());
            Records.put(tx, Kind.IDENTITY, id, revoked, StoreTransaction.ANY);
            return new Outcome(revoked, true, withdrawal.withdraw(tx, id));
        });
        IdentityRecord r = outcome.record();
        if (outcome.changed()) {
            AUDIT.info("identity revoked: id={} member={} role={} withdrawn: {}", id, r.member(), r.role(),
                    outcome.withdrawn());
        } else {
            AUDIT.info("identity revoke: id={} was already revoked at {}", id,
                    Instant.ofEpochMilli(r.revokedAtMillis()));
        }
        return info(r);
    }

    /**
     * Identities that joined before the controller recorded joins are listed only in their member's record. Each
     * gets an identity record: joined at the time its token was used (when the token is still stored), with the
     * token's scope; an agent whose token is gone or had none gets its SPIFFE ID's namespace as scope (any service
     * of it). Returns how many were recorded. Runs at controller start; a second run finds nothing to do.
     */
    public static int recordEarlierJoins(Store store) {
        int recorded = store.transact(tx -> {
            Map<String, JoinTokenRecord> tokensByUser = new HashMap<>();
            for (JoinTokenRecord t : Records.list(tx, Kind.JOIN_TOKEN, JoinTokenRecord.class)) {
                if (t.usedBy() != null) {
                    tokensByUser.put(t.usedBy(), t);
                }
            }
            int n = 0;
            for (MemberRecord member : Records.list(tx, Kind.MEMBER, MemberRecord.class)) {
                for (String id : member.identities()) {
                    if (tx.get(Kind.IDENTITY.storeName(), id).isPresent()) {
                        continue;
                    }
                    Records.put(tx, Kind.IDENTITY, id, earlierJoin(id, member.name(), tokensByUser.get(id)),
                            StoreTransaction.ABSENT);
                    n++;
                }
            }
            return n;
        });
        if (recorded > 0) {
            LOG.info("recorded {} identit{} that joined before the controller kept a record of joins", recorded,
                    recorded == 1 ? "y" : "ies");
        }
        return recorded;
    }

    private static IdentityRecord earlierJoin(String id, String member, JoinTokenRecord token) {
        Optional<MeshfedIds.Role> shape = MeshfedIds.roleOf(id);
        boolean agent = shape.equals(Optional.of(MeshfedIds.Role.AGENT));
        String role = token != null ? token.role() : agent ? Role.ROLE_AGENT.name()
                : shape.equals(Optional.of(MeshfedIds.Role.EDGE)) ? Role.ROLE_EDGE.name() : Role.ROLE_GATEWAY.name();
        ServiceScope scope = token != null && token.scope() != null ? token.scope()
                : agent ? new ServiceScope(MeshfedIds.namespaceOf(SpiffeId.parse(id)).orElseThrow(), List.of()) : null;
        return new IdentityRecord(id, member, role, scope, token == null ? 0 : token.usedAtMillis(), 0);
    }

    static IdentityInfo info(IdentityRecord r) {
        IdentityInfo.Builder b = IdentityInfo.newBuilder().setSpiffeId(r.spiffeId()).setMember(r.member())
                .setRole(role(r.role())).setRevoked(r.revoked());
        if (r.scope() != null) {
            b.setNamespace(r.scope().namespace()).addAllServices(r.scope().services());
        }
        if (r.joinedAtMillis() > 0) {
            b.setJoinedAt(Timestamps.fromMillis(r.joinedAtMillis()));
        }
        if (r.revoked()) {
            b.setRevokedAt(Timestamps.fromMillis(r.revokedAtMillis()));
        }
        return b.build();
    }

    private static Role role(String name) {
        try {
            return Role.valueOf(name);
        } catch (IllegalArgumentException | NullPointerException e) {
            return Role.ROLE_UNSPECIFIED;
        }
    }

}
