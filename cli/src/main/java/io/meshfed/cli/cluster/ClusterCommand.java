package io.meshfed.cli.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.ClusterList;
import io.meshfed.api.v1.ClusterState;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegisterClusterRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.UnregisterClusterRequest;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.ExitCodes;
import io.meshfed.cli.render.ClusterTable;
import io.meshfed.cli.render.ProtoJson;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshfed cluster join | leave | rotate-credentials | render-manifests | list}: Kubernetes members. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Join Kubernetes clusters to the federation (Multi-Cluster Services API).",
        subcommands = {ClusterCommand.Join.class, ClusterCommand.Leave.class, ClusterCommand.RotateCredentials.class,
            ClusterCommand.RenderManifests.class, ClusterCommand.ListClusters.class})
public final class ClusterCommand {
    private static final List<ResourceDefinitionContext> MCS = List.of(
            new ResourceDefinitionContext.Builder().withGroup("multicluster.x-k8s.io").withVersion("v1alpha1")
                    .withKind("ServiceImport").withPlural("serviceimports").withNamespaced(true).build());

    /** What every subcommand that talks to a cluster shares: the operator's kubeconfig and the progress lines. */
    abstract static class ClusterStep implements Callable<Integer> {
        final CliContext cli;

        @Option(names = "--kubeconfig", required = true, paramLabel = "FILE",
                description = "The operator's kubeconfig; used by this command only, never sent anywhere.")
        Path kubeconfig;

        @Option(names = "--context", paramLabel = "CTX", description = "Context in the kubeconfig (default: current).")
        String context;

        private final io.meshfed.cli.context.Progress progress;

        ClusterStep(CliContext cli) {
            this.cli = cli;
            this.progress = new io.meshfed.cli.context.Progress(cli.out());
        }

        void steps(int total) {
            progress.steps(total);
        }

        void progress(String what, String result) {
            progress.line(what, result);
        }

        AdminClient connectAdmin() {
            return AdminClient.connect(cli.environment(), cli.clock());
        }

        Config operatorConfig() {
            Config c = OperatorKubeconfig.load(kubeconfig, context);
            progress("kubeconfig " + kubeconfig.getFileName() + " (" + c.getCurrentContext().getName() + ")",
                    c.getMasterUrl());
            return c;
        }

        static KubernetesClient client(Config c) {
            return new KubernetesClientBuilder().withConfig(c).build();
        }
    }

    /** Either an address to register or a gateway to install. */
    static final class GatewayChoice {
        @Option(names = "--gateway-address", paramLabel = "HOST:PORT",
                description = "The network's east-west gateway, already running (sets the network's address).")
        String address;

        @Option(names = "--install-gateway", description = "Install the east-west gateway in the cluster"
                + " (Deployment, LoadBalancer Service on 15443 and 15008, join token Secret).")
        boolean install;
    }

    @Command(name = "join", mixinStandardHelpOptions = true,
            description = "Make a Kubernetes cluster a member: MCS CRDs, a least-privilege connector account whose"
                    + " scoped kubeconfig goes to the controller, and optionally the east-west gateway.")
    static final class Join extends ClusterStep {
        @Parameters(paramLabel = "NAME", description = "The member's name (a DNS label).")
        String name;

        @Option(names = "--network", required = true, paramLabel = "NET")
        String network;

        @Option(names = "--trust-domain", paramLabel = "TD", description = "Default: NAME.<federation trust domain>.")
        String trustDomain;

        @Option(names = "--cidr", paramLabel = "CIDR", description = {"The cluster's pod and node address range"
                + " (repeatable): EndpointSlice addresses outside are left out. Without any, loopback, link-local,",
                "unspecified and multicast endpoint addresses are."})
        java.util.List<String> cidrs = new java.util.ArrayList<>();

        @ArgGroup(exclusive = true)
        GatewayChoice gateway = new GatewayChoice();

        @Option(names = "--tunnel-address", paramLabel = "HOST:PORT", description = {"With --gateway-address: the"
                + " gateway's tunnel listener (its port 15008) as other networks dial it (sets the network's tunnel",
                "address; without it, other networks reach this one over the SNI listener only)."})
        String tunnelAddress;

        @Option(names = "--gateway-image", paramLabel = "IMAGE", defaultValue = ClusterManifests.DEFAULT_GATEWAY_IMAGE,
                description = "With --install-gateway (default: ${DEFAULT-VALUE}).")
        String gatewayImage;

        @Option(names = "--controller-address", paramLabel = "HOST:PORT", description = "With --install-gateway:"
                + " the controller as the gateway pod reaches it (default: the admin config's address).")
        String controllerAddress;

        @Option(names = "--token-timeout", paramLabel = "DURATION", defaultValue = "60s",
                description = "How long to wait for the cluster to fill in the connector's token (default 60s).")
        String tokenTimeout;

        Join(CliContext cli) {
            super(cli);
        }

        @Override
        public Integer call() {
            Duration timeout = io.meshfed.api.Durations.parse(tokenTimeout);
            if (tunnelAddress != null && gateway.address == null) {
                throw new CliException("--tunnel-address needs --gateway-address beside it (an installed gateway"
                        + " reports its own tunnel address)");
            }
            steps(gateway.install ? 7 : 6);
            Config config = operatorConfig();
            try (KubernetesClient kube = client(config); AdminClient admin = connectAdmin()) {
                ClusterInstaller installer = new ClusterInstaller(kube, config);
                progress("API server", "reachable, Kubernetes " + installer.version());
                boolean wasRegistered = admin.stub().listClusters(ListRequest.getDefaultInstance()).getClustersList()
                        .stream().anyMatch(c -> c.getName().equals(name));
                boolean registered = false;
                try {
                    progress("Multi-Cluster Services CRDs", installer.apply(ClusterManifests.crds()));
                    progress("namespace, ServiceAccount, RBAC (" + ClusterManifests.NAMESPACE + ")",
                            installer.apply(ClusterManifests.access()));
                    Secret token = installer.connectorToken(false, timeout);
                    progress("connector token", "secret " + token.getMetadata().getName());
                    ClusterState state = admin.stub().registerCluster(RegisterClusterRequest.newBuilder()
                            .setName(name).setNetwork(network).setTrustDomain(nullToEmpty(trustDomain))
                            .setGatewayAddress(nullToEmpty(gateway.address))
                            .setTunnelAddress(nullToEmpty(tunnelAddress)).addAllCidrs(cidrs)
                            .setKubeconfig(installer.scopedKubeconfig(name, token)).build());
                    registered = true;
                    progress("controller: member " + name + " (" + state.getTrustDomain() + ")",
                            "registered, credentials generation " + state.getCredentialsGeneration()
                                    + (gateway.address != null ? ", gateway " + gateway.address : "")
                                    + (tunnelAddress != null ? ", tunnel " + tunnelAddress : ""));
                    if (gateway.install) {
                        progress("east-west gateway (" + gatewayImage + ")", installGateway(installer, kube, admin));
                    }
                } catch (RuntimeException e) {
                    int removed = installer.rollBack();
                    if (registered && !wasRegistered) {
                        admin.stub().unregisterCluster(UnregisterClusterRequest.newBuilder().setName(name).build());
                    }
                    String undo = removed > 0 || (registered && !wasRegistered)
                            ? " (rolled back: " + removed + " objects created by this run"
                                    + (registered && !wasRegistered ? ", the controller registration" : "") + ")"
                            : "";
                    throw new CliException(describe(e) + undo);
                }
            }
            PrintWriter out = cli.out();
            out.println("cluster " + name + " joined; 'meshfed cluster list' shows when its connector has synced.");
            out.flush();
            return ExitCodes.OK;
        }

        private String installGateway(ClusterInstaller installer, KubernetesClient kube, AdminClient admin) {
            Secret existing = kube.secrets().inNamespace(ClusterManifests.NAMESPACE)
                    .withName(ClusterManifests.GATEWAY_JOIN_SECRET).get();
            String joinToken;
            if (existing != null) {
                joinToken = new String(java.util.Base64.getDecoder().decode(existing.getData().get("token")),
                        java.nio.charset.StandardCharsets.UTF_8); // the gateway may have used it: keep what is there
            } else {
                joinToken = admin.stub().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember(name)
                        .setRole(Role.ROLE_GATEWAY).setTtlSeconds(24 * 3600).build()).getToken();
            }
            String controller = controllerAddress != null ? controllerAddress
                    : AdminConfigFile.controllerAddress(cli.environment());
            return installer.apply(ClusterManifests.gateway(name, controller, gatewayImage, joinToken));
        }
    }

    @Command(name = "leave", mixinStandardHelpOptions = true,
            description = "Remove a member cluster: from the controller, and everything join and the connector created"
                    + " in the cluster (the MCS CRDs stay unless --remove-crds).")
    static final class Leave extends ClusterStep {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--remove-crds", description = "Also delete the ServiceExport and ServiceImport CRDs (and with"
                + " them every ServiceExport in the cluster).")
        boolean removeCrds;

        Leave(CliContext cli) {
            super(cli);
        }

        @Override
        public Integer call() {
            steps(7);
            Config config = operatorConfig();
            try (KubernetesClient kube = client(config); AdminClient admin = connectAdmin()) {
                ClusterInstaller installer = new ClusterInstaller(kube, config);
                progress("API server", "reachable, Kubernetes " + installer.version());
                try {
                    admin.stub().unregisterCluster(UnregisterClusterRequest.newBuilder().setName(name).build());
                    progress("controller: member " + name, "removed (endpoints withdrawn, credentials deleted)");
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                        throw e;
                    }
                    progress("controller: member " + name, "not registered");
                }
                progress("imports made by the connector", installer.deleteConnectorObjects(name, MCS) + " deleted");
                progress("east-west gateway", installer.delete(ClusterManifests.gateway(name, "-", "-", "-"))
                        + " objects deleted");
                int tokens = 0;
                for (Secret s : installer.tokenSecrets()) {
                    installer.deleteSecret(s);
                    tokens++;
                }
                List<HasMetadata> access = new ArrayList<>(ClusterManifests.access());
                Collections.reverse(access);
                progress("RBAC, ServiceAccount, namespace", installer.delete(access) + " objects and " + tokens
                        + " token secrets deleted");
                progress("Multi-Cluster Services CRDs", removeCrds ? installer.delete(ClusterManifests.crds())
                        + " deleted" : "kept (--remove-crds deletes them)");
            }
            cli.out().println("cluster " + name + " left the federation.");
            cli.out().flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "rotate-credentials", mixinStandardHelpOptions = true,
            description = "Give the connector a new token without downtime: the controller switches to it, then the"
                    + " old tokens are deleted.")
    static final class RotateCredentials extends ClusterStep {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s",
                description = "How long to wait for the token and for the connector to sync with it (default 60s).")
        String timeoutText;

        RotateCredentials(CliContext cli) {
            super(cli);
        }

        @Override
        public Integer call() {
            Duration timeout = io.meshfed.api.Durations.parse(timeoutText);
            steps(6);
            Config config = operatorConfig();
            try (KubernetesClient kube = client(config); AdminClient admin = connectAdmin()) {
                ClusterInstaller installer = new ClusterInstaller(kube, config);
                progress("API server", "reachable, Kubernetes " + installer.version());
                ClusterState before = admin.stub().listClusters(ListRequest.getDefaultInstance()).getClustersList()
                        .stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow(() ->
                                new CliException("no cluster '" + name + "'; join it first"));
                List<Secret> old = installer.tokenSecrets();
                Secret token = installer.connectorToken(true, timeout);
                progress("new connector token", "secret " + token.getMetadata().getName());
                ClusterState state = admin.stub().registerCluster(RegisterClusterRequest.newBuilder().setName(name)
                        .setNetwork(before.getNetwork()).setTrustDomain(before.getTrustDomain())
                        .setKubeconfig(installer.scopedKubeconfig(name, token)).build());
                progress("controller", "credentials generation " + state.getCredentialsGeneration());
                long deadline = System.nanoTime() + timeout.toNanos();
                ClusterState now = state;
                while (!(now.getCredentialsGeneration() == state.getCredentialsGeneration()
                        && now.getState().equals("synced"))) {
                    if (System.nanoTime() > deadline) {
                        throw new CliException("the connector did not sync with the new token within "
                                + timeout.toSeconds() + " s (state " + now.getState() + ": " + now.getLastError()
                                + "); the old tokens are kept");
                    }
                    try {
                        Thread.sleep(250);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new CliException("interrupted; the old tokens are kept");
                    }
                    now = admin.stub().listClusters(ListRequest.getDefaultInstance()).getClustersList().stream()
                            .filter(c -> c.getName().equals(name)).findFirst().orElse(now);
                }
                progress("connector synced with the new token", "ok");
                old.stream().filter(s -> !s.getMetadata().getName().equals(token.getMetadata().getName()))
                        .forEach(installer::deleteSecret);
                progress("old tokens", old.size() + " deleted");
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "render-manifests", mixinStandardHelpOptions = true,
            description = "Print the YAML that join applies (for GitOps). The connector's kubeconfig still has to"
                    + " reach the controller: run join, or register it through the admin API.")
    static final class RenderManifests implements Callable<Integer> {
        private final CliContext cli;

        @Parameters(paramLabel = "NAME", arity = "0..1", defaultValue = "CLUSTER",
                description = "The member's name (used by the gateway's arguments).")
        String name;

        @Option(names = "--install-gateway", description = "Include the east-west gateway.")
        boolean gateway;

        @Option(names = "--gateway-image", paramLabel = "IMAGE", defaultValue = ClusterManifests.DEFAULT_GATEWAY_IMAGE)
        String gatewayImage;

        @Option(names = "--controller-address", paramLabel = "HOST:PORT", defaultValue = "meshfed-controller:15012")
        String controllerAddress;

        RenderManifests(CliContext cli) {
            this.cli = cli;
        }

        @Override
        public Integer call() {
            List<HasMetadata> objects = new ArrayList<>(ClusterManifests.crds());
            objects.addAll(ClusterManifests.access());
            objects.add(ClusterManifests.tokenSecret(ClusterManifests.TOKEN_PREFIX + "1"));
            StringBuilder out = new StringBuilder("# meshfed cluster join, as YAML. Generated by meshfed cluster"
                    + " render-manifests.\n");
            if (gateway) {
                List<HasMetadata> gw = new ArrayList<>(ClusterManifests.gateway(name, controllerAddress, gatewayImage,
                        "-"));
                gw.remove(0); // the join token Secret: create it from a real token, never keep it in Git
                objects.addAll(gw);
                out.append("# The gateway needs secret ").append(ClusterManifests.NAMESPACE).append('/')
                        .append(ClusterManifests.GATEWAY_JOIN_SECRET).append(" (key token): kubectl -n ")
                        .append(ClusterManifests.NAMESPACE).append(" create secret generic ")
                        .append(ClusterManifests.GATEWAY_JOIN_SECRET).append(" --from-literal=token=\"$(meshfed token")
                        .append(" create --member ").append(name).append(" --role gateway -o json | jq -r .token)\"\n");
            }
            out.append("---\n").append(ClusterManifests.yaml(objects));
            cli.out().print(out);
            cli.out().flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Member clusters: API server, connection state, last sync, exports and imports.")
    static final class ListClusters implements Callable<Integer> {
        private final CliContext cli;

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table")
        String output;

        ListClusters(CliContext cli) {
            this.cli = cli;
        }

        @Override
        public Integer call() {
            ClusterList list;
            try (AdminClient admin = AdminClient.connect(cli.environment(), cli.clock())) {
                list = admin.stub().listClusters(ListRequest.getDefaultInstance());
            }
            PrintWriter out = cli.out();
            out.print(output.equals("json") ? ProtoJson.print(list) + "\n"
                    : ClusterTable.render(list.getClustersList()));
            out.flush();
            return ExitCodes.OK;
        }
    }

    static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    static String describe(RuntimeException e) {
        if (e instanceof StatusRuntimeException s) {
            return AdminClient.describe(s);
        }
        return e.getMessage();
    }
}
