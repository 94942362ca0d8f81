package io.meshfed.cli.consul;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.ConsulList;
import io.meshfed.api.v1.ConsulState;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegisterConsulRequest;
import io.meshfed.api.v1.UnregisterConsulRequest;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.ExitCodes;
import io.meshfed.cli.context.Progress;
import io.meshfed.cli.render.ConsulTable;
import io.meshfed.cli.render.ProtoJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshfed consul join | leave | list | render-policy}: Consul datacenters as members. */
@Command(name = "consul", mixinStandardHelpOptions = true,
        description = "Join Consul datacenters to the federation: tagged services are imported, federated services"
                + " published back.",
        subcommands = {ConsulCommand.Join.class, ConsulCommand.Leave.class, ConsulCommand.ListMembers.class,
            ConsulCommand.RenderPolicy.class})
public final class ConsulCommand {
    private ConsulCommand() {}

    /** The numbered progress lines of join and leave. */
    abstract static class Steps implements Callable<Integer> {
        final CliContext cli;
        private final Progress progress;

        Steps(CliContext cli) {
            this.cli = cli;
            this.progress = new Progress(cli.out());
        }

        void steps(int total) {
            progress.steps(total);
        }

        void progress(String what, String result) {
            progress.line(what, result);
        }
    }

    @Command(name = "join", mixinStandardHelpOptions = true,
            description = {"Make a Consul datacenter a member. The controller checks the agent, the datacenter and"
                    + " the token's rights before it stores anything, and keeps the token sealed.",
                "Services tagged meshfed-export (or named by an export policy) are imported; federated services"
                    + " the member imports are registered on the node meshfed-gateway-<network>."})
    static final class Join extends Steps {
        @Parameters(paramLabel = "NAME", description = "The member's name (a DNS label).")
        String name;

        @Option(names = "--address", required = true, paramLabel = "URL",
                description = "The Consul agent's HTTP API as the controller reaches it: http://HOST:8500 or"
                        + " https://HOST:8501.")
        String address;

        @Option(names = "--network", required = true, paramLabel = "NET")
        String network;

        @Option(names = "--datacenter", paramLabel = "DC", description = "Default: the agent's own.")
        String datacenter;

        @Option(names = "--token-file", paramLabel = "FILE", description = "A file holding the ACL token (its"
                + " SecretID); see meshfed consul render-policy for its least-privilege policy.")
        Path tokenFile;

        @Option(names = "--ca-file", paramLabel = "FILE", description = "PEM of the CA of the agent's HTTPS"
                + " certificate (with an https:// address).")
        Path caFile;

        @Option(names = "--namespace-from", paramLabel = "tag|meta|default", defaultValue = "tag",
                description = "Where a service's meshfed namespace comes from: the tag meshfed-namespace=NS, the"
                        + " service meta key meshfed-namespace, or always default (default: ${DEFAULT-VALUE}).")
        String namespaceFrom;

        @Option(names = "--gateway-address", paramLabel = "HOST:PORT", description = "The network's east-west"
                + " gateway (sets the network's address); needed when the network has none.")
        String gatewayAddress;

        @Option(names = "--tunnel-address", paramLabel = "HOST:PORT", description = "With --gateway-address: that"
                + " gateway's tunnel listener (its port 15008) as other networks dial it.")
        String tunnelAddress;

        @Option(names = "--trust-domain", paramLabel = "TD", description = "Default: NAME.<federation trust domain>.")
        String trustDomain;

        @Option(names = "--cidr", paramLabel = "CIDR", description = "The datacenter's node address ranges"
                + " (repeatable): instances outside are left out.")
        List<String> cidrs = new ArrayList<>();

        @Option(names = "--sync-timeout", paramLabel = "DURATION", defaultValue = "60s",
                description = "How long to wait for the first sync (default ${DEFAULT-VALUE}; 0 to not wait).")
        String syncTimeout;

        Join(CliContext cli) {
            super(cli);
        }

        @Override
        public Integer call() {
            if (tunnelAddress != null && gatewayAddress == null) {
                throw new CliException("--tunnel-address needs --gateway-address beside it", ExitCodes.USAGE);
            }
            Duration timeout = io.meshfed.api.Durations.parse(syncTimeout);
            String token = tokenFile == null ? "" : read(tokenFile, "token file").strip();
            if (tokenFile != null && token.isEmpty()) {
                throw new CliException("token file " + tokenFile + " is empty");
            }
            String ca = caFile == null ? "" : read(caFile, "CA file");
            steps(timeout.isZero() ? 2 : 3);
            progress("token", tokenFile == null ? "none (the datacenter must run without ACLs)"
                    : "read from " + tokenFile.getFileName() + " (sent to the controller only, never printed)");
            try (AdminClient admin = AdminClient.connect(cli.environment(), cli.clock())) {
                ConsulState state = admin.stub().registerConsul(RegisterConsulRequest.newBuilder().setName(name)
                        .setNetwork(network).setAddress(address).setDatacenter(nullToEmpty(datacenter))
                        .setToken(token).setCaPem(ca).setNamespaceFrom(namespaceFrom)
                        .setGatewayAddress(nullToEmpty(gatewayAddress)).setTunnelAddress(nullToEmpty(tunnelAddress))
                        .setTrustDomain(nullToEmpty(trustDomain)).addAllCidrs(cidrs).build());
                progress("controller: member " + name + " (" + state.getTrustDomain() + ")",
                        "registered, datacenter " + state.getDatacenter() + ", generation " + state.getGeneration());
                PrintWriter out = cli.out();
                for (String check : state.getChecksList()) {
                    out.println("      ✔ " + check);
                }
                out.flush();
                if (!timeout.isZero()) {
                    ConsulState synced = awaitSynced(admin, state, timeout);
                    progress("first sync", synced.getExportedServices() + " service(s) imported from Consul, "
                            + synced.getImportedServices() + " published into it");
                }
            } catch (StatusRuntimeException e) {
                throw new CliException(AdminClient.describe(e));
            }
            cli.out().println("consul member " + name + " joined; 'meshfed consul list' shows its state.");
            cli.out().flush();
            return ExitCodes.OK;
        }

        private ConsulState awaitSynced(AdminClient admin, ConsulState state, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            ConsulState now = state;
            while (!(now.getState().equals("synced") && now.getGeneration() == state.getGeneration())) {
                if (System.nanoTime() > deadline) {
                    throw new CliException("the connector did not sync within " + timeout.toSeconds() + " s (state "
                            + now.getState() + (now.getLastError().isEmpty() ? "" : ": " + now.getLastError())
                            + "); the member stays registered, see meshfed consul list");
                }
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CliException("interrupted; the member stays registered");
                }
                now = admin.stub().listConsul(ListRequest.getDefaultInstance()).getMembersList().stream()
                        .filter(c -> c.getName().equals(name)).findFirst().orElse(now);
            }
            return now;
        }
    }

    @Command(name = "leave", mixinStandardHelpOptions = true,
            description = "Remove a Consul member: its services leave the federation, and what meshfed registered"
                    + " in Consul is deregistered.")
    static final class Leave extends Steps {
        @Parameters(paramLabel = "NAME")
        String name;

        Leave(CliContext cli) {
            super(cli);
        }

        @Override
        public Integer call() {
            steps(1);
            try (AdminClient admin = AdminClient.connect(cli.environment(), cli.clock())) {
                admin.stub().unregisterConsul(UnregisterConsulRequest.newBuilder().setName(name).build());
                progress("controller: member " + name, "removed (services withdrawn, registrations and token"
                        + " deleted)");
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                    progress("controller: member " + name, "not registered (nothing to do)");
                } else {
                    throw new CliException(AdminClient.describe(e));
                }
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Consul members: agent, datacenter, connection state, last sync, imports and exports.")
    static final class ListMembers implements Callable<Integer> {
        private final CliContext cli;

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                description = "table (default) or json.")
        String output;

        ListMembers(CliContext cli) {
            this.cli = cli;
        }

        @Override
        public Integer call() {
            if (!output.equals("table") && !output.equals("json")) {
                throw new CliException("unknown output format '" + output + "'; use table or json", ExitCodes.USAGE);
            }
            ConsulList list;
            try (AdminClient admin = AdminClient.connect(cli.environment(), cli.clock())) {
                list = admin.stub().listConsul(ListRequest.getDefaultInstance());
            }
            cli.out().print(output.equals("json") ? ProtoJson.print(list) + "\n"
                    : ConsulTable.render(list.getMembersList()));
            cli.out().flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "render-policy", mixinStandardHelpOptions = true,
            description = "Print the least-privilege ACL policy (HCL) of a member's token: read services and nodes,"
                    + " write the node meshfed-gateway-NET and the imported services published there.")
    static final class RenderPolicy implements Callable<Integer> {
        private final CliContext cli;

        @Option(names = "--network", required = true, paramLabel = "NET")
        String network;

        @Option(names = "--publish", paramLabel = "NAME.NAMESPACE", split = ",",
                description = "Federated services the member imports (repeatable or comma-separated), each"
                        + " registered in Consul as NAME-NAMESPACE.")
        List<String> publish = new ArrayList<>();

        RenderPolicy(CliContext cli) {
            this.cli = cli;
        }

        @Override
        public Integer call() {
            List<String> names = new ArrayList<>();
            for (String p : publish) {
                try {
                    names.add(ConsulPolicy.consulName(p));
                } catch (IllegalArgumentException e) {
                    throw new CliException("--publish " + e.getMessage() + " (e.g. hello.demo)", ExitCodes.USAGE);
                }
            }
            cli.out().print(ConsulPolicy.render(network, names));
            cli.out().flush();
            return ExitCodes.OK;
        }
    }

    private static String read(Path file, String what) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException("cannot read " + what + " " + file + ": " + e.getMessage());
        }
    }

    static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
