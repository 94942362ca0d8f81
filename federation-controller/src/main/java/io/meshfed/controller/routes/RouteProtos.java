package io.meshfed.controller.routes;

import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteArg;
import io.meshfed.api.v1.RouteDefinition;
import io.meshfed.controller.model.RouteRecord;
import java.util.List;

/** Routes between their wire form and their stored form, losslessly (argument order kept). */
final class RouteProtos {
    private RouteProtos() {}

    static RouteRecord record(Route r) {
        return new RouteRecord(r.getId(), r.getUri(), r.getOrder(), definitions(r.getPredicatesList()),
                definitions(r.getFiltersList()), args(r.getMetadataList()));
    }

    static Route proto(RouteRecord r) {
        Route.Builder b = Route.newBuilder().setId(r.id()).setUri(r.uri()).setOrder(r.order());
        r.predicates().forEach(d -> b.addPredicates(definition(d)));
        r.filters().forEach(d -> b.addFilters(definition(d)));
        r.metadata().forEach(a -> b.addMetadata(RouteArg.newBuilder().setKey(a.key()).setValue(a.value())));
        return b.build();
    }

    private static List<RouteRecord.Definition> definitions(List<RouteDefinition> defs) {
        return defs.stream().map(d -> new RouteRecord.Definition(d.getName(), args(d.getArgsList()))).toList();
    }

    private static List<RouteRecord.Arg> args(List<RouteArg> args) {
        return args.stream().map(a -> new RouteRecord.Arg(a.getKey(), a.getValue())).toList();
    }

    private static RouteDefinition definition(RouteRecord.Definition d) {
        RouteDefinition.Builder b = RouteDefinition.newBuilder().setName(d.name());
        d.args().forEach(a -> b.addArgs(RouteArg.newBuilder().setKey(a.key()).setValue(a.value())));
        return b.build();
    }
}
