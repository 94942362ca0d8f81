package io.meshfed.controller.join;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import io.meshfed.api.DnsLabel;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.JoinToken;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.ServiceScope;
import io.meshfed.controller.store.Store;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin's CreateJoinToken: checks the request (the member exists, the role, an agent token's scope), creates the
 * token with {@link JoinTokens} pinned to the federation root, and answers it. The token's secret is shown once, in
 * the answer, and never logged.
 */
public final class JoinTokenOperations {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");

    private final Store store;
    private final FederationIdentity identity;
    private final JoinTokens tokens;

    public JoinTokenOperations(Store store, FederationIdentity identity, JoinTokens tokens) {
        this.store = requireNonNull(store, "store");
        this.identity = requireNonNull(identity, "identity");
        this.tokens = requireNonNull(tokens, "tokens");
    }

    private static InvalidArgumentException invalid(String message) {
        return new InvalidArgumentException(message);
    }

    private static void checkName(String what, String name) {
        if (!DnsLabel.matches(name)) {
            throw invalid(what + " name '" + name + "' " + DnsLabel.RULE);
        }
    }

    public JoinToken create(CreateJoinTokenRequest request) {
        if (Records.get(store, Kind.MEMBER, request.getMember(), MemberRecord.class).isEmpty()) {
            throw new NotFoundException("member '" + request.getMember() + "' does not exist; add it with:"
                    + " meshfed member add " + request.getMember() + " --type vm --network NET");
        }
        if (request.getRole() == Role.ROLE_UNSPECIFIED || request.getRole() == Role.UNRECOGNIZED) {
            throw invalid("a join token needs a role: gateway, agent or edge");
        }
        MemberRecord member = Records.get(store, Kind.MEMBER, request.getMember(), MemberRecord.class).orElseThrow();
        io.meshfed.trust.TrustDomain td = io.meshfed.trust.TrustDomain.parse(member.trustDomain());
        if (!identity.ca(td).issues()) {
            throw new io.meshfed.controller.errors.FailedPreconditionException("member '" + request.getMember()
                    + "' is in external trust domain " + td.name() + ": its own mesh issues its SVIDs, so nothing"
                    + " joins it through meshfed (no join tokens)");
        }
        Duration ttl = request.getTtlSeconds() <= 0 ? JoinTokens.DEFAULT_TTL : Duration.ofSeconds(request.getTtlSeconds());
        JoinTokens.Created created;
        try {
            created = tokens.create(request.getMember(), request.getRole(), scope(request), ttl,
                    io.meshfed.trust.SvidCertificates.pin(identity.ca(identity.federationTrustDomain()).rootCertificates().get(0)));
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        ServiceScope scope = created.record().scope();
        AUDIT.info("join token {} created for member={} role={} scope={} expires={}", created.record().id(),
                request.getMember(), request.getRole(), scope == null ? "-" : scope,
                Instant.ofEpochMilli(created.record().expiresAtMillis()));
        JoinToken.Builder token = JoinToken.newBuilder().setToken(created.token()).setId(created.record().id())
                .setMember(request.getMember()).setRole(request.getRole())
                .setExpiresAt(timestamp(Instant.ofEpochMilli(created.record().expiresAtMillis())));
        if (scope != null) {
            token.setNamespace(scope.namespace()).addAllServices(scope.services());
        }
        return token.build();
    }

    /**
     * The scope an agent token grants: the named services (all in one namespace, the agent's), or any service of
     * one namespace. Null for other roles, which may not name one.
     */
    static ServiceScope scope(CreateJoinTokenRequest request) {
        if (request.getRole() != Role.ROLE_AGENT) {
            if (request.getServicesCount() > 0 || !request.getNamespace().isEmpty()) {
                throw invalid("only agent tokens carry --service or --namespace; a " + io.meshfed.controller.server
                        .Protos.roleLabel(request.getRole().name()) + " registers no workloads");
            }
            return null;
        }
        if (request.getServicesCount() == 0 && request.getNamespace().isEmpty()) {
            throw invalid("an agent token needs a scope: --service NAME.NAMESPACE (repeatable) for the services its"
                    + " agent may register, or --namespace NS for any service of one namespace");
        }
        if (request.getServicesCount() > 64) {
            throw invalid("an agent token may name at most 64 services, not " + request.getServicesCount());
        }
        String namespace = request.getNamespace();
        if (!namespace.isEmpty()) {
            checkName("namespace", namespace);
        }
        TreeSet<String> services = new TreeSet<>();
        for (String s : request.getServicesList()) {
            int dot = s.indexOf('.');
            if (dot < 0 || !DnsLabel.matches(s.substring(0, dot)) || !DnsLabel.matches(s.substring(dot + 1))) {
                throw invalid("service '" + s + "' must be NAME.NAMESPACE, both DNS labels (" + DnsLabel.DESCRIPTION
                        + ")");
            }
            String ns = s.substring(dot + 1);
            if (namespace.isEmpty()) {
                namespace = ns;
            } else if (!namespace.equals(ns)) {
                throw invalid("service '" + s + "' is not in namespace " + namespace + "; an agent has one namespace"
                        + " (the /ns/ part of its SPIFFE ID), so its services must share it");
            }
            services.add(s);
        }
        return new ServiceScope(namespace, List.copyOf(services));
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
}
