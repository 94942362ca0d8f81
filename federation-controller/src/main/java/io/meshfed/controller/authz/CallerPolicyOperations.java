package io.meshfed.controller.authz;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.DnsLabel;
import io.meshfed.api.v1.CallerPolicy;
import io.meshfed.api.v1.CallerPolicyList;
import io.meshfed.api.v1.CallerPolicyRequest;
import io.meshfed.api.v1.CallerRule;
import io.meshfed.api.v1.DeleteCallerPolicyRequest;
import io.meshfed.controller.errors.FailedPreconditionException;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.model.CallerPolicyRecord;
import io.meshfed.controller.model.CallerPolicyRecord.Effect;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.trust.InvalidSpiffeIdException;
import io.meshfed.trust.SpiffeIdPattern;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin's caller policies (authorization per caller): put (allow or deny), list, delete. A policy names a service
 * and the callers a SPIFFE ID pattern matches; the config streams send a service's policies to every subscriber of
 * the networks that serve it, and the proxies combine them with the export default (deny wins; allow adds callers).
 * Putting the same rule again is the same policy (its id is derived from its content) and writes nothing.
 */
public final class CallerPolicyOperations {
    /** The most policies one service may have: every proxy checks them on each new connection. */
    public static final int MAX_PER_SERVICE = 256;

    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");
    private static final Comparator<CallerPolicyRecord> ORDER = Comparator.comparing(CallerPolicyRecord::namespace)
            .thenComparing(CallerPolicyRecord::service).thenComparing(CallerPolicyRecord::from)
            .thenComparing(CallerPolicyRecord::effect).thenComparing(CallerPolicyRecord::id);

    private final Store store;
    private final java.util.function.Consumer<StoreTransaction> importsChanged;

    /** With nothing to bring in line when policies change (tests of the policies alone). */
    public CallerPolicyOperations(Store store) {
        this(store, tx -> { });
    }

    /**
     * {@code importsChanged} runs in every transaction that writes or deletes a policy: an allow policy makes its
     * service visible to the members it names, so what their networks import (their outbound listen ports) follows.
     */
    public CallerPolicyOperations(Store store, java.util.function.Consumer<StoreTransaction> importsChanged) {
        this.store = requireNonNull(store, "store");
        this.importsChanged = requireNonNull(importsChanged, "importsChanged");
    }

    private static InvalidArgumentException invalid(String message) {
        return new InvalidArgumentException(message);
    }

    public CallerPolicy put(CallerPolicyRequest request) {
        if (!DnsLabel.matches(request.getService())) {
            throw invalid("service name '" + request.getService() + "' " + DnsLabel.RULE);
        }
        String namespace = request.getNamespace().isEmpty() ? "default" : request.getNamespace();
        if (!DnsLabel.matches(namespace)) {
            throw invalid("namespace name '" + namespace + "' " + DnsLabel.RULE);
        }
        Effect effect = switch (request.getEffect()) {
            case ALLOW -> Effect.ALLOW;
            case DENY -> Effect.DENY;
            default -> throw invalid("effect must be ALLOW or DENY");
        };
        try {
            SpiffeIdPattern.parse(request.getFrom());
        } catch (InvalidSpiffeIdException e) {
            throw new InvalidArgumentException("from: " + e.getMessage() + "; give an exact SPIFFE ID, a path prefix"
                    + " ending in /* (spiffe://TD/ns/NS/*) or a whole trust domain (spiffe://TD)", e);
        }
        CallerPolicyRecord policy = CallerPolicyRecord.of(request.getService(), namespace, effect, request.getFrom());
        boolean written = store.transact(tx -> {
            if (tx.get(Kind.CALLER_POLICY.storeName(), policy.id()).isPresent()) {
                return false; // the same rule: the same policy, nothing to change
            }
            long ofService = Records.list(tx, Kind.CALLER_POLICY, CallerPolicyRecord.class).stream()
                    .filter(p -> p.serviceKey().equals(policy.serviceKey())).count();
            if (ofService >= MAX_PER_SERVICE) {
                throw new FailedPreconditionException("service " + policy.serviceKey() + " has " + ofService
                        + " caller policies, the most one service may have (" + MAX_PER_SERVICE + "); delete one"
                        + " first (meshfed authz list, meshfed authz delete ID)");
            }
            Records.put(tx, Kind.CALLER_POLICY, policy.id(), policy, StoreTransaction.ABSENT);
            importsChanged.accept(tx);
            return true;
        });
        if (written) {
            AUDIT.info("caller policy {}: {} {} from {}", policy.id(), policy.effect(), policy.serviceKey(),
                    policy.from());
        }
        return proto(policy);
    }

    public CallerPolicyList list() {
        return CallerPolicyList.newBuilder().addAllPolicies(policies(store).stream()
                .map(CallerPolicyOperations::proto).toList()).build();
    }

    public CallerPolicy delete(DeleteCallerPolicyRequest request) {
        if (request.getId().isEmpty()) {
            throw invalid("id is required; 'meshfed authz list' shows the policies' ids");
        }
        Optional<CallerPolicyRecord> deleted = store.transact(tx -> {
            Optional<CallerPolicyRecord> current = Records.get(tx, Kind.CALLER_POLICY, request.getId(),
                    CallerPolicyRecord.class);
            current.ifPresent(p -> {
                tx.delete(Kind.CALLER_POLICY.storeName(), p.id(), StoreTransaction.ANY);
                importsChanged.accept(tx);
            });
            return current;
        });
        CallerPolicyRecord policy = deleted.orElseThrow(() -> new NotFoundException("caller policy '"
                + request.getId() + "' does not exist; 'meshfed authz list' shows the policies"));
        AUDIT.info("caller policy {} deleted: {} {} from {}", policy.id(), policy.effect(), policy.serviceKey(),
                policy.from());
        return proto(policy);
    }

    /** Every policy, sorted by namespace, service, from, effect, id. */
    public static List<CallerPolicyRecord> policies(StoreReader reader) {
        return Records.list(reader, Kind.CALLER_POLICY, CallerPolicyRecord.class).stream().sorted(ORDER).toList();
    }

    /** A policy as a snapshot carries it. */
    public static CallerRule rule(CallerPolicyRecord p) {
        return CallerRule.newBuilder().setId(p.id()).setEffect(effect(p.effect())).setFrom(p.from()).build();
    }

    static CallerPolicy proto(CallerPolicyRecord p) {
        return CallerPolicy.newBuilder().setId(p.id()).setService(p.service()).setNamespace(p.namespace())
                .setEffect(effect(p.effect())).setFrom(p.from()).build();
    }

    private static CallerRule.Effect effect(Effect e) {
        return e == Effect.ALLOW ? CallerRule.Effect.ALLOW : CallerRule.Effect.DENY;
    }
}
