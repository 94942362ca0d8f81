package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.Member;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meshfed member add NAME --type vm --network NET [--trust-domain TD] [--cidr CIDR ...] [--ca vault
 * --vault-address URL --vault-mount PATH --vault-role ROLE (--vault-token-file F | --vault-approle-...)]}.
 */
@Command(name = "member", mixinStandardHelpOptions = true, description = "Manage members.",
        subcommands = {MemberCommand.Add.class})
public final class MemberCommand {
    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a member; it gets its own trust domain and CA.")
    static final class Add extends AdminCommand {
        @Parameters(paramLabel = "NAME", description = "DNS label, e.g. east-vms.")
        String name;

        @Option(names = "--type", required = true, paramLabel = "TYPE", description = "vm.")
        String type;

        @Option(names = "--network", required = true, paramLabel = "NET", description = "The member's network.")
        String network;

        @Option(names = "--trust-domain", paramLabel = "TD",
                description = "Default: NAME.<federation trust domain>.")
        String trustDomain;

        @Option(names = "--cidr", paramLabel = "CIDR",
                description = "An address range of the member, e.g. 10.1.0.0/16 or fd00:1::/64 (repeatable; replaces"
                        + " the list). When set, its gateways may report only IP addresses inside them.")
        java.util.List<String> cidrs;

        @Option(names = "--ca", paramLabel = "BACKEND", defaultValue = "builtin",
                description = "The member's CA: builtin (default), provided or vault (with the --vault-* flags).")
        String ca;

        @picocli.CommandLine.Mixin
        CaOptions caOptions = new CaOptions();

        Add(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.addMember(AddMemberRequest.newBuilder().setName(name).setType(type).setNetwork(network)
                    .setTrustDomain(trustDomain == null ? "" : trustDomain)
                    .addAllCidrs(cidrs == null ? java.util.List.of() : cidrs)
                    .setCa(caOptions.choice(ca, "--ca")).build());
        }

        @Override
        String table(MessageOrBuilder response) {
            Member m = (Member) response;
            return new Table("MEMBER", "TYPE", "NETWORK", "TRUST DOMAIN")
                    .row(m.getName(), m.getType(), m.getNetwork(), m.getTrustDomain()).render();
        }
    }
}
