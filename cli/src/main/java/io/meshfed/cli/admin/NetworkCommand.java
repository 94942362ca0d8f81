package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Network;
import io.meshfed.api.v1.NetworkList;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.Table;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meshfed network create NAME [--gateway-address HOST:PORT] [--tunnel-address HOST:PORT] [--gateway-member M
 * ...]} and {@code network list}.
 */
@Command(name = "network", mixinStandardHelpOptions = true, description = "Manage networks (address spaces).",
        subcommands = {NetworkCommand.Create.class, NetworkCommand.ListNetworks.class})
public final class NetworkCommand {
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a network, or set its east-west gateway address or gateway members.")
    static final class Create extends AdminCommand {
        @Parameters(paramLabel = "NAME", description = "DNS label, e.g. east.")
        String name;

        @Option(names = "--gateway-address", paramLabel = "HOST:PORT",
                description = "The network's east-west gateway, as other networks reach it.")
        String gatewayAddress;

        @Option(names = "--tunnel-address", paramLabel = "HOST:PORT",
                description = {"The tunnel listener (port 15008 of the gateway) behind --gateway-address, as other"
                        + " networks reach it. Without it, other networks reach this one by SNI on the gateway address"
                        + " only. Without --gateway-address, gateways report their own."})
        String tunnelAddress;

        @Option(names = "--gateway-member", paramLabel = "MEMBER",
                description = "A member of this network whose joined east-west gateways are the network's (repeatable;"
                        + " replaces the list). Default: the first member added to the network.")
        List<String> gatewayMembers;

        Create(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.createNetwork(CreateNetworkRequest.newBuilder().setName(name)
                    .setGatewayAddress(gatewayAddress == null ? "" : gatewayAddress)
                    .setTunnelAddress(tunnelAddress == null ? "" : tunnelAddress)
                    .addAllGatewayMembers(gatewayMembers == null ? List.of() : gatewayMembers).build());
        }

        @Override
        String table(MessageOrBuilder response) {
            return networkTable(List.of((Network) response));
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List networks with their gateway address and gateway members.")
    static final class ListNetworks extends AdminCommand {
        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.listNetworks(ListRequest.getDefaultInstance());
        }

        ListNetworks(CliContext context) {
            super(context);
        }

        @Override
        String table(MessageOrBuilder response) {
            return networkTable(((NetworkList) response).getNetworksList());
        }
    }

    static String networkTable(List<Network> networks) {
        Table t = new Table("NAME", "GATEWAY ADDRESS", "TUNNEL ADDRESS", "GATEWAY MEMBERS");
        for (Network n : networks) {
            t.row(n.getName(), n.getGatewayAddress(), n.getTunnelAddress(), String.join(",", n.getGatewayMembersList()));
        }
        return t.render();
    }
}
