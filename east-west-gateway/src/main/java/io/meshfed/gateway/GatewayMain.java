package io.meshfed.gateway;

import io.meshfed.client.JoinTokenSource;
import io.meshfed.client.StateDir;
import io.meshfed.dataplane.ProxyOptions;
import io.meshfed.launcher.Foreground;
import io.meshfed.launcher.OneLineErrorHandler;
import io.meshfed.launcher.ProcessLogging;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code meshfed-gateway}: runs an east-west gateway. */
@Command(name = "meshfed-gateway", mixinStandardHelpOptions = true,
        description = {"Run an east-west gateway. The first start joins with --token; the identity is kept in",
            "--state-dir (owner-only), so later starts need no token."})
public final class GatewayMain implements Callable<Integer> {
    static final String PROGRAM = "meshfed-gateway";

    @Option(names = "--controller", required = true, paramLabel = "HOST:PORT")
    String controller;

    @Option(names = "--token", paramLabel = "TOKEN", description = {"Join token (first start only). Prefer the",
        "MESHFED_JOIN_TOKEN environment variable: a flag is visible to every user in the process list."})
    String token;

    @Option(names = "--member", required = true, paramLabel = "MEMBER")
    String member;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Gateway name (SPIFFE path segment).")
    String name;

    @Option(names = "--state-dir", required = true, paramLabel = "DIR")
    Path stateDir;

    @Option(names = "--listen", defaultValue = "127.0.0.1:15443", paramLabel = "HOST:PORT",
            description = "Inbound mTLS listener (default ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--tunnel-listen", paramLabel = "HOST:PORT|none", description = {"Tunnel listener (HTTP/2",
        "CONNECT over mTLS) for other networks' senders; 'none' disables it (default: the --listen host, port "
            + "15008)."})
    String tunnelListen;

    @Option(names = "--advertise", paramLabel = "HOST:PORT", description = "Address other networks dial (default: --listen).")
    String advertise;

    @Option(names = "--http-listen", defaultValue = "127.0.0.1:15021", paramLabel = "HOST:PORT",
            description = "Plain HTTP /healthz, /readyz, /metrics (default ${DEFAULT-VALUE}).")
    String httpListen;

    @Option(names = "--outbound-bind", defaultValue = "127.0.0.1", paramLabel = "HOST",
            description = "Address of the outbound listeners for imported services (default ${DEFAULT-VALUE}).")
    String outboundBind;

    @picocli.CommandLine.Mixin
    ProxyOptions proxy;

    /** The default tunnel port (the HBONE port). */
    static final int TUNNEL_PORT = 15008;

    /** {@code --tunnel-listen}: null when 'none', else the address (default: the --listen host, port 15008). */
    static InetSocketAddress tunnelListen(String value, InetSocketAddress listen) {
        if (value == null) {
            return new InetSocketAddress(listen.getAddress(), TUNNEL_PORT);
        }
        return "none".equals(value) ? null : hostPort("--tunnel-listen", value);
    }

    static InetSocketAddress hostPort(String flag, String value) {
        try {
            return io.meshfed.api.HostPort.parseResolved(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + " '" + value + "' " + e.getMessage());
        }
    }

    public static void main(String[] args) {
        ProcessLogging.configure();
        CommandLine cli = new CommandLine(new GatewayMain());
        cli.setExecutionExceptionHandler(new OneLineErrorHandler(PROGRAM));
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        String joinToken = JoinTokenSource.resolve(token, System.getenv()).orElse(null);
        InetSocketAddress inbound = hostPort("--listen", listen);
        GatewayNode node = GatewayNode.start(new GatewayNode.Options(controller, joinToken, member, name,
                new StateDir(stateDir), inbound, advertise, InetAddress.getByName(outboundBind),
                hostPort("--http-listen", httpListen), proxy.settings(), tunnelListen(tunnelListen, inbound)),
                Clock.systemUTC());
        return Foreground.of(PROGRAM).serveUntilShutdown(node, "meshfed gateway ready: mTLS "
                + node.inboundAddress().getHostString() + ":" + node.inboundAddress().getPort()
                + node.tunnelAddress().map(t -> ", tunnel " + t.getHostString() + ":" + t.getPort()).orElse(""));
    }
}
