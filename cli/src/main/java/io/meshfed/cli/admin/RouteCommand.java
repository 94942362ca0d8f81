package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.DeleteRouteRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.Table;
import java.nio.file.Path;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code meshfed route apply FILE | list | delete ID}: the edge gateways' routes. */
@Command(name = "route", mixinStandardHelpOptions = true,
        description = "Manage the edge gateways' routes (Spring Cloud Gateway's route model; see the README).",
        subcommands = {RouteCommand.Apply.class, RouteCommand.List.class, RouteCommand.Delete.class})
public final class RouteCommand {
    static String render(RouteSet set) {
        Table t = new Table("ID", "ORDER", "URI", "PREDICATES", "FILTERS");
        for (Route r : set.getRoutesList()) {
            t.row(r.getId(), String.valueOf(r.getOrder()), r.getUri(),
                    r.getPredicatesList().stream().map(RouteFile::shortcut).collect(Collectors.joining(" ")),
                    r.getFiltersCount() == 0 ? "-"
                            : r.getFiltersList().stream().map(RouteFile::shortcut).collect(Collectors.joining(" ")));
        }
        if (set.getRejectionsCount() == 0) {
            return t.render();
        }
        // Routes an edge gateway could not load: still stored, but not in effect on that gateway.
        StringBuilder out = new StringBuilder(t.render()).append("\nRejected by edge gateways (not in effect there):\n");
        for (io.meshfed.api.v1.RouteRejection r : set.getRejectionsList()) {
            out.append("  ").append(r.getRouteId()).append(" by ").append(r.getMember()).append(" (")
                    .append(r.getSubscriber()).append("): ").append(r.getReason()).append('\n');
        }
        return out.toString();
    }

    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = "Create or replace (by id) the routes in a YAML file; all or none.")
    static final class Apply extends AdminCommand {
        @Parameters(paramLabel = "FILE", description = "YAML: routes: [{id, uri, order, predicates, filters, metadata}]")
        Path file;

        Apply(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.applyRoutes(RouteFile.read(file));
        }

        @Override
        String table(MessageOrBuilder response) {
            return render((RouteSet) response);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the routes, by order then id.")
    static final class List extends AdminCommand {
        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.listRoutes(ListRequest.getDefaultInstance());
        }

        List(CliContext context) {
            super(context);
        }

        @Override
        String table(MessageOrBuilder response) {
            return render((RouteSet) response);
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a route; lists those left.")
    static final class Delete extends AdminCommand {
        @Parameters(paramLabel = "ID")
        String id;

        Delete(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.deleteRoute(DeleteRouteRequest.newBuilder().setId(id).build());
        }

        @Override
        String table(MessageOrBuilder response) {
            return render((RouteSet) response);
        }
    }
}
