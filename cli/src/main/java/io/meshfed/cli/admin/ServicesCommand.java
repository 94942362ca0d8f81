package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.CatalogEndpoint;
import io.meshfed.api.v1.CatalogNetwork;
import io.meshfed.api.v1.CatalogService;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.ServiceCatalog;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.Table;
import picocli.CommandLine.Command;

/** {@code meshfed services}: the federated catalog. */
@Command(name = "services", mixinStandardHelpOptions = true,
        description = "The federated catalog: each service, its members, exports, and endpoints per network.")
public final class ServicesCommand extends AdminCommand {
    @Override
    MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.listServices(ListRequest.getDefaultInstance());
    }

    ServicesCommand(CliContext context) {
        super(context);
    }

    @Override
    String table(MessageOrBuilder response) {
        Table t = new Table("SERVICE", "MEMBERS", "EXPORTED TO", "OUTBOUND PORTS", "NETWORK", "HEALTHY",
                "ENDPOINTS");
        for (CatalogService s : ((ServiceCatalog) response).getServicesList()) {
            String exported = s.getExport().getToAll() ? "all" : s.getExport().getToMembersCount() == 0 ? "nobody"
                    : String.join(",", s.getExport().getToMembersList());
            String outbound = s.getOutboundPortsList().stream()
                    .map(p -> p.getServicePort() + "->" + p.getListenPort()
                            + (p.getNetwork().isEmpty() ? "" : "@" + p.getNetwork()))
                    .collect(java.util.stream.Collectors.joining(","));
            boolean first = true;
            for (CatalogNetwork n : s.getNetworksList()) {
                long healthy = n.getEndpointsList().stream().filter(CatalogEndpoint::getHealthy).count();
                StringBuilder endpoints = new StringBuilder();
                for (CatalogEndpoint e : n.getEndpointsList()) {
                    if (endpoints.length() > 0) {
                        endpoints.append(' ');
                    }
                    endpoints.append(e.getAddress()).append(':').append(e.getPort()).append(e.getHealthy() ? "" : "(down)");
                }
                t.row(first ? s.getName() + "." + s.getNamespace() : "", first ? String.join(",", s.getMembersList()) : "",
                        first ? exported : "", first ? (outbound.isEmpty() ? "-" : outbound) : "", n.getNetwork(),
                        healthy + "/" + n.getEndpointsCount(), endpoints);
                first = false;
            }
        }
        return t.render();
    }
}
