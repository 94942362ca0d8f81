package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.cli.admin.AdminClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The VM members of a test federation as real processes: east-west gateways, agents (joined with a token the admin
 * makes, scoped to the services they serve) and sample services, each on its own 127.0.x.y address, joining at the
 * controller address given. {@link #close} kills them, newest first.
 */
final class VmFleet implements AutoCloseable {
    static final String GATEWAY_JAR = "east-west-gateway/target/meshfed-gateway.jar";
    static final String AGENT_JAR = "vm-agent/target/meshfed-agent.jar";
    static final String SAMPLE_JAR = "sample-service/target/meshfed-sample.jar";

    private final Path work;
    private final Path logs;
    private final Map<String, String> env;
    private final String controllers;
    private final List<Component> components = new ArrayList<>();

    /**
     * @param env         the admin's environment (MESHFED_HOME)
     * @param controllers the controller address members join at (they learn every replica's from the join)
     */
    VmFleet(Path work, Path logs, Map<String, String> env, String controllers) {
        this.work = work;
        this.logs = logs;
        this.env = env;
        this.controllers = controllers;
    }

    static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return s.getLocalPort();
        }
    }

    private String token(String member, Role role, List<String> services) {
        try (AdminClient a = AdminClient.connect(env)) {
            return a.stub().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember(member).setRole(role)
                    .addAllServices(services).build()).getToken();
        }
    }

    private Component start(Component c, String marker, Map<String, String> withEnv) throws Exception {
        components.add(c);
        return c.start(marker, withEnv);
    }

    /** An east-west gateway of {@code member} on {@code prefix}.1 (15443 and the tunnel 15008). */
    Component gateway(String member, String prefix) throws Exception {
        Map<String, String> withToken = new HashMap<>(env);
        withToken.put("MESHFED_JOIN_TOKEN", token(member, Role.ROLE_GATEWAY, List.of()));
        return start(Component.java(logs, member + "-gateway", GATEWAY_JAR, env, "--controller", controllers,
                "--member", member, "--name", member + "-gw", "--state-dir", work.resolve(member + "-gw").toString(),
                "--listen", prefix + ".1:15443", "--tunnel-listen", prefix + ".1:15008",
                "--http-listen", prefix + ".1:" + freePort(prefix + ".1"), "--outbound-bind", prefix + ".1",
                "--drain-timeout", "1s"), "meshfed gateway ready", withToken);
    }

    /**
     * An agent of {@code member} in {@code namespace} on {@code prefix}.2, joined with a token for
     * {@code services} ("name.namespace"); {@code body} is the rest of its agent.yaml (services, imports).
     */
    Component agent(String member, String prefix, String namespace, List<String> services, String body)
            throws Exception {
        Path yaml = work.resolve(member + "-agent.yaml");
        Files.writeString(yaml, "member: " + member + "\nname: " + member + "-vm\nnamespace: " + namespace
                + "\nstateDir: " + work.resolve(member + "-agent") + "\naddress: " + prefix + ".2\ninbound:\n  listen: "
                + prefix + ".2:" + freePort(prefix + ".2") + "\nhttp:\n  listen: " + prefix + ".2:"
                + freePort(prefix + ".2") + "\nhealthCheck:\n  interval: 500ms\n  timeout: 500ms\n" + body);
        Map<String, String> withToken = new HashMap<>(env);
        withToken.put("MESHFED_JOIN_TOKEN", token(member, Role.ROLE_AGENT, services));
        Processes.Result r = Processes.run(work, Duration.ofMinutes(2), List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                Processes.root().resolve(AGENT_JAR).toString(), "join", "--controller", controllers,
                "--config", yaml.toString()), withToken);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return start(Component.java(logs, member + "-agent", AGENT_JAR, env, "run", "--config", yaml.toString(),
                "--drain-timeout", "1s"), "meshfed agent ready", env);
    }

    /** The sample service answering "hello from {@code service} in network {@code name}". */
    Component sample(String name, String service, String host, int port) throws Exception {
        return start(Component.java(logs, name, SAMPLE_JAR, env, "--mode", "hello", "--service", service,
                "--network", name, "--listen", host + ":" + port), "serving", env);
    }

    @Override
    public void close() throws InterruptedException {
        for (int i = components.size() - 1; i >= 0; i--) {
            components.get(i).kill();
        }
    }
}
