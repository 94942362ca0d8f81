package io.meshfed.cli.quickstart;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The quickstart's fixed addresses: the controller on 127.0.0.1, network east on 127.0.1.x and west on 127.0.2.x
 * (x=1 the east-west gateway, x=2 the VM with its agent and sample service). Fixed so that the printed commands and
 * the docs stay true; a taken port fails the start with its owner named.
 */
final class Layout {
    static final String CONTROLLER = "127.0.0.1:15012";
    static final String CONTROLLER_HTTPS = "127.0.0.1:15014";
    static final int GATEWAY_PORT = 15443;
    /** The gateway's tunnel listener (HTTP/2 CONNECT over mTLS), which other networks' agents and gateways use. */
    static final int GATEWAY_TUNNEL_PORT = 15008;
    static final int GATEWAY_HTTP_PORT = 15021;
    static final int AGENT_PORT = 15006;
    static final int AGENT_HTTP_PORT = 15020;
    static final int SERVICE_PORT = 8080;
    /** West's agent exposes hello.demo here. */
    static final int IMPORT_PORT = 18080;
    static final String NAMESPACE = "demo";
    /** The edge gateway, in the west network: north-south entry to the mesh. */
    static final String EDGE = "127.0.0.1:18000";
    static final String EDGE_MANAGEMENT = "127.0.0.1:15022";

    /** One network of the quickstart. */
    record Net(String name, String prefix, String service, String mode) {
        String gatewayHost() {
            return prefix + ".1";
        }

        String vmHost() {
            return prefix + ".2";
        }

        String gatewayName() {
            return name + "-gw";
        }

        String vmName() {
            return name + "-vm";
        }

        String gateway() {
            return gatewayHost() + ":" + GATEWAY_PORT;
        }

        String gatewayTunnel() {
            return gatewayHost() + ":" + GATEWAY_TUNNEL_PORT;
        }

        String gatewayHttp() {
            return gatewayHost() + ":" + GATEWAY_HTTP_PORT;
        }

        String agent() {
            return vmHost() + ":" + AGENT_PORT;
        }

        String agentHttp() {
            return vmHost() + ":" + AGENT_HTTP_PORT;
        }

        String app() {
            return vmHost() + ":" + SERVICE_PORT;
        }
    }

    static final Net EAST = new Net("east", "127.0.1", "hello", "hello");
    static final Net WEST = new Net("west", "127.0.2", "echo", "echo");

    /** West's local entry to hello.demo through its agent (one gateway hop: east's). */
    static String westImport() {
        return WEST.vmHost() + ":" + IMPORT_PORT;
    }

    /** Every address a component listens on, with what listens there, checked before anything starts. */
    record Listener(String owner, InetSocketAddress address) {}

    static List<Listener> listeners() {
        List<Listener> all = new java.util.ArrayList<>(List.of(
                new Listener("controller (gRPC)", parse(CONTROLLER)),
                new Listener("controller (HTTPS)", parse(CONTROLLER_HTTPS)),
                new Listener("west agent (hello.demo import)", parse(westImport())),
                new Listener("edge gateway (HTTP)", parse(EDGE)),
                new Listener("edge gateway (health, metrics)", parse(EDGE_MANAGEMENT))));
        for (Net n : List.of(EAST, WEST)) {
            all.add(new Listener(n.name() + " gateway (mTLS)", parse(n.gateway())));
            all.add(new Listener(n.name() + " gateway (tunnels)", parse(n.gatewayTunnel())));
            all.add(new Listener(n.name() + " gateway (health, metrics)", parse(n.gatewayHttp())));
            all.add(new Listener(n.name() + " agent (mTLS)", parse(n.agent())));
            all.add(new Listener(n.name() + " agent (health, metrics)", parse(n.agentHttp())));
            all.add(new Listener(n.service() + "." + NAMESPACE + " sample service", parse(n.app())));
        }
        return all;
    }

    static InetSocketAddress parse(String hostPort) {
        return io.meshfed.api.HostPort.parseResolved(hostPort);
    }

    private Layout() {}
}
