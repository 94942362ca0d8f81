package io.meshfed.cli.quickstart;

import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteArg;
import io.meshfed.api.v1.RouteDefinition;
import io.meshfed.api.v1.RouteSet;

/** The quickstart's edge routes: /hello/** to hello.demo (in east), /echo/** to echo.demo (in west). */
final class EdgeRoutes {
    private EdgeRoutes() {}

    static RouteSet quickstart() {
        return RouteSet.newBuilder().addRoutes(route("hello")).addRoutes(route("echo")).build();
    }

    private static Route route(String service) {
        return Route.newBuilder().setId(service).setUri("lb://" + service + "." + Layout.NAMESPACE)
                .addPredicates(definition("Path", "/" + service + "/**"))
                .addFilters(definition("StripPrefix", "1")).build();
    }

    private static RouteDefinition definition(String name, String arg) {
        return RouteDefinition.newBuilder().setName(name)
                .addArgs(RouteArg.newBuilder().setKey("_genkey_0").setValue(arg)).build();
    }
}
