package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Network;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshfed network create NAME [--gateway-address HOST:PORT]}. */
@Command(name = "network", mixinStandardHelpOptions = true, description = "Manage networks (address spaces).",
        subcommands = {NetworkCommand.Create.class})
public final class NetworkCommand {
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a network, or set its east-west gateway address.")
    static final class Create extends AdminCommand {
        @Parameters(paramLabel = "NAME", description = "DNS label, e.g. east.")
        String name;

        @Option(names = "--gateway-address", paramLabel = "HOST:PORT",
                description = "The network's east-west gateway, as other networks reach it.")
        String gatewayAddress;

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.createNetwork(CreateNetworkRequest.newBuilder().setName(name)
                    .setGatewayAddress(gatewayAddress == null ? "" : gatewayAddress).build());
        }

        @Override
        String table(MessageOrBuilder response) {
            Network n = (Network) response;
            return new Table("NETWORK", "GATEWAY").row(n.getName(), n.getGatewayAddress()).render();
        }
    }
}
