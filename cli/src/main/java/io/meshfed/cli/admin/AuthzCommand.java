package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.CallerPolicy;
import io.meshfed.api.v1.CallerPolicyList;
import io.meshfed.api.v1.CallerPolicyRequest;
import io.meshfed.api.v1.CallerRule;
import io.meshfed.api.v1.DeleteCallerPolicyRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.Table;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meshfed authz allow|deny SERVICE.NAMESPACE --from PATTERN | list | delete ID}: authorization per caller. A
 * service's callers are the members it is exported to, plus those its allow policies name, minus those its deny
 * policies name (deny wins).
 */
@Command(name = "authz", mixinStandardHelpOptions = true,
        description = {"Allow or deny callers of a service by SPIFFE ID, on top of the members it is exported to.",
            "A caller is let in when no deny policy names it and its member is exported to or an allow policy names"
                + " it. Changes reach the gateways and agents live; open connections no longer allowed are closed."},
        subcommands = {AuthzCommand.Allow.class, AuthzCommand.Deny.class, AuthzCommand.List.class,
            AuthzCommand.Delete.class})
public final class AuthzCommand {
    static String render(java.util.List<CallerPolicy> policies) {
        Table t = new Table("ID", "SERVICE", "EFFECT", "FROM");
        for (CallerPolicy p : policies) {
            t.row(p.getId(), p.getService() + "." + p.getNamespace(), effect(p.getEffect()), p.getFrom());
        }
        return t.render();
    }

    private static String effect(CallerRule.Effect e) {
        return e == CallerRule.Effect.UNRECOGNIZED ? "?" : e.name().toLowerCase(Locale.ROOT);
    }

    /** allow and deny: the same arguments, another effect. */
    abstract static class Put extends AdminCommand {
        @Parameters(paramLabel = "SERVICE.NAMESPACE", description = "e.g. hello.demo (namespace default when omitted)")
        String service;

        @Option(names = "--from", required = true, paramLabel = "SPIFFE-ID-OR-PATTERN",
                description = {"Whom the policy names: an exact SPIFFE ID (spiffe://TD/ns/shop/sa/cart), every ID"
                    + " below a path (spiffe://TD/ns/shop/*) or a whole trust domain (spiffe://TD)."})
        String from;

        Put(CliContext context) {
            super(context);
        }

        abstract CallerRule.Effect effect();

        @Override
        final MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            String[] parts = serviceAndNamespace(service);
            return admin.putCallerPolicy(CallerPolicyRequest.newBuilder().setService(parts[0]).setNamespace(parts[1])
                    .setEffect(effect()).setFrom(from).build());
        }

        @Override
        final String table(MessageOrBuilder response) {
            return render(java.util.List.of((CallerPolicy) response));
        }
    }

    @Command(name = "allow", mixinStandardHelpOptions = true,
            description = "Let the callers --from names reach the service, besides the members it is exported to."
                + " Giving the same policy again changes nothing.")
    static final class Allow extends Put {
        Allow(CliContext context) {
            super(context);
        }

        @Override
        CallerRule.Effect effect() {
            return CallerRule.Effect.ALLOW;
        }
    }

    @Command(name = "deny", mixinStandardHelpOptions = true,
            description = "Refuse the callers --from names, even those of a member it is exported to or that an"
                + " allow policy names (deny wins). Their open connections are closed.")
    static final class Deny extends Put {
        Deny(CliContext context) {
            super(context);
        }

        @Override
        CallerRule.Effect effect() {
            return CallerRule.Effect.DENY;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the caller policies, by namespace, service and pattern.")
    static final class List extends AdminCommand {
        List(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.listCallerPolicies(ListRequest.getDefaultInstance());
        }

        @Override
        String table(MessageOrBuilder response) {
            return render(((CallerPolicyList) response).getPoliciesList());
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a caller policy by its id (see 'meshfed authz list'); shows what was deleted.")
    static final class Delete extends AdminCommand {
        @Parameters(paramLabel = "ID")
        String id;

        Delete(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.deleteCallerPolicy(DeleteCallerPolicyRequest.newBuilder().setId(id).build());
        }

        @Override
        String table(MessageOrBuilder response) {
            return render(java.util.List.of((CallerPolicy) response));
        }
    }
}
