package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.IdentityInfo;
import io.meshfed.api.v1.IdentityList;
import io.meshfed.api.v1.ListIdentitiesRequest;
import io.meshfed.api.v1.RevokeIdentityRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.Table;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshfed identity list [--member M] | revoke SPIFFE-ID}: the identities that joined. */
@Command(name = "identity", mixinStandardHelpOptions = true,
        description = "List the identities that joined (gateways, agents, edges) and revoke one.",
        subcommands = {IdentityCommand.List.class, IdentityCommand.Revoke.class})
public final class IdentityCommand {
    static String render(java.util.List<IdentityInfo> identities) {
        Table t = new Table("SPIFFE ID", "MEMBER", "ROLE", "SCOPE", "JOINED", "STATE");
        for (IdentityInfo i : identities) {
            t.row(i.getSpiffeId(), i.getMember(), role(i.getRole()), scope(i), AdminCommand.time(i.getJoinedAt()),
                    i.getRevoked() ? "revoked " + AdminCommand.time(i.getRevokedAt()) : "active");
        }
        return t.render();
    }

    private static String role(Role role) {
        return role == Role.ROLE_UNSPECIFIED || role == Role.UNRECOGNIZED ? "-"
                : role.name().replace("ROLE_", "").toLowerCase(Locale.ROOT);
    }

    /** An agent's scope: its services, or any service of its namespace. */
    private static String scope(IdentityInfo i) {
        if (i.getServicesCount() > 0) {
            return String.join(",", i.getServicesList());
        }
        return i.getNamespace().isEmpty() ? "-" : "namespace " + i.getNamespace();
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the joined identities, by member, with their scope and state.")
    static final class List extends AdminCommand {
        @Option(names = "--member", paramLabel = "MEMBER", description = "Only this member's identities.")
        String member;

        List(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.listIdentities(ListIdentitiesRequest.newBuilder().setMember(member == null ? "" : member)
                    .build());
        }

        @Override
        String table(MessageOrBuilder response) {
            return render(((IdentityList) response).getIdentitiesList());
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = {"Revoke an identity: it can no longer renew or call the controller, its config streams"
                + " are closed and its workloads (agent) or gateway are withdrawn within seconds.",
                "Its SVID stays valid until it expires, but nothing accepts it from the controller. A revoked"
                + " identity cannot join again under the same name. Revoking again changes nothing."})
    static final class Revoke extends AdminCommand {
        @Parameters(paramLabel = "SPIFFE-ID", description = "e.g. spiffe://east.acme.mesh/ns/demo/vm/vm-1")
        String spiffeId;

        Revoke(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.revokeIdentity(RevokeIdentityRequest.newBuilder().setSpiffeId(spiffeId).build());
        }

        @Override
        String table(MessageOrBuilder response) {
            return render(java.util.List.of((IdentityInfo) response));
        }
    }
}
