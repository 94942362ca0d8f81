package io.meshfed.api;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The controller replicas a node may talk to, as gRPC sees them: every address of every {@code HOST:PORT} given (a
 * DNS name with several A records counts for all of them), resolved again whenever gRPC asks (after a connection
 * fails). With {@code pick_first} over a shuffled list the nodes spread over the replicas, and one whose replica
 * goes away reconnects to another one, keeping its cached config meanwhile.
 */
public final class ControllerAddresses extends NameResolver.Factory {
    public static final String SCHEME = "meshfed-controllers";
    private final List<String> hostPorts;

    /** @throws IllegalArgumentException naming an address that is not HOST:PORT */
    public ControllerAddresses(List<String> hostPorts) {
        if (hostPorts.isEmpty()) {
            throw new IllegalArgumentException("no controller address");
        }
        for (String a : hostPorts) {
            try {
                HostPort.parse(a);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("controller address '" + a + "' " + e.getMessage());
            }
        }
        this.hostPorts = List.copyOf(hostPorts);
    }

    /** Splits a comma-separated list ({@code ctl-1:15012,ctl-2:15012}). */
    public static ControllerAddresses parse(String commaSeparated) {
        return new ControllerAddresses(split(commaSeparated));
    }

    /** The entries of a comma-separated list, trimmed, empty ones left out; not checked. */
    public static List<String> split(String commaSeparated) {
        return java.util.Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .toList();
    }

    /** The target to build a channel for, with this as its name resolver. */
    public String target() {
        return SCHEME + ":///" + hostPorts.get(0);
    }

    @Override
    public String getDefaultScheme() {
        return SCHEME;
    }

    @Override
    public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
        if (!SCHEME.equals(targetUri.getScheme())) {
            return null;
        }
        Executor offload = args.getOffloadExecutor() != null ? args.getOffloadExecutor() : Runnable::run;
        return new NameResolver() {
            private Listener2 listener;
            private volatile boolean shutdown;

            @Override
            public String getServiceAuthority() {
                return hostPorts.get(0);
            }

            @Override
            public void start(Listener2 listener) {
                this.listener = listener;
                resolve();
            }

            @Override
            public void refresh() {
                resolve();
            }

            private void resolve() {
                offload.execute(() -> {
                    if (shutdown) {
                        return;
                    }
                    List<EquivalentAddressGroup> groups = new ArrayList<>();
                    List<String> unresolved = new ArrayList<>();
                    for (String hostPort : hostPorts) {
                        InetSocketAddress a = HostPort.parse(hostPort);
                        try {
                            for (InetAddress ip : InetAddress.getAllByName(a.getHostString())) {
                                groups.add(new EquivalentAddressGroup(new InetSocketAddress(ip, a.getPort())));
                            }
                        } catch (UnknownHostException e) {
                            unresolved.add(hostPort);
                        }
                    }
                    if (groups.isEmpty()) {
                        listener.onError(Status.UNAVAILABLE.withDescription("cannot resolve the controller"
                                + " address(es) " + String.join(", ", unresolved)));
                    } else {
                        listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
                    }
                });
            }

            @Override
            public void shutdown() {
                shutdown = true;
            }
        };
    }
}
