package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.JoinToken;
import io.meshfed.api.v1.Role;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.Durations;
import io.meshfed.cli.context.ExitCodes;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshfed token create --member M --role gateway|agent|edge [--service NAME.NS ...] [--namespace NS] [--ttl 1h]}.
 */
@Command(name = "token", mixinStandardHelpOptions = true, description = "Manage join tokens.",
        subcommands = {TokenCommand.Create.class})
public final class TokenCommand {
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create a single-use join token for one member and role. The token is shown once;",
                "the controller keeps only its hash."})
    static final class Create extends AdminCommand {
        @Option(names = "--member", required = true, paramLabel = "M")
        String member;

        @Option(names = "--role", required = true, paramLabel = "ROLE", description = "gateway, agent or edge.")
        String role;

        @Option(names = "--service", paramLabel = "NAME.NAMESPACE",
                description = {"Agents: a service the agent may register (repeatable; all in one namespace,",
                    "which becomes the agent's)."})
        java.util.List<String> services = new java.util.ArrayList<>();

        @Option(names = "--namespace", paramLabel = "NS",
                description = "Agents: the agent's namespace; without --service, any service of it may be registered.")
        String namespace = "";

        @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "1h", converter = Durations.class,
                description = "How long it may be used (default ${DEFAULT-VALUE}).")
        Duration ttl;

        Create(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            Role r = switch (role.toLowerCase(Locale.ROOT)) {
                case "gateway" -> Role.ROLE_GATEWAY;
                case "agent" -> Role.ROLE_AGENT;
                case "edge" -> Role.ROLE_EDGE;
                default -> throw new CliException("unknown role '" + role + "'; use gateway, agent or edge",
                        ExitCodes.USAGE);
            };
            return admin.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember(member).setRole(r)
                    .setTtlSeconds(ttl.toSeconds()).addAllServices(services).setNamespace(namespace).build());
        }

        @Override
        String table(MessageOrBuilder response) {
            JoinToken t = (JoinToken) response;
            return t.getToken() + "\n" + "  member " + t.getMember() + ", role "
                    + t.getRole().name().replace("ROLE_", "").toLowerCase(Locale.ROOT) + ", single use, expires "
                    + time(t.getExpiresAt()) + "\n"
                    + (t.getRole() != Role.ROLE_AGENT ? "" : "  may register " + (t.getServicesCount() > 0
                            ? String.join(", ", t.getServicesList()) : "any service of namespace " + t.getNamespace())
                            + "\n");
        }
    }
}
