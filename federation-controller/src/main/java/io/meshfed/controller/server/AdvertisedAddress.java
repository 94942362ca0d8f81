package io.meshfed.controller.server;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The controller addresses joiners are told to use: the configured {@code advertiseAddress} (one or more
 * {@code HOST:PORT}, comma-separated: every replica's, or one name with an address per replica), or, when none is
 * configured, the listen host with the port the gRPC listener was bound to (the port may be 0 in the configuration).
 * Known once the listener is bound; a join answered in the moment between binding and {@link #bound} waits for it.
 */
public final class AdvertisedAddress implements Supplier<List<String>> {
    private final String configured;
    private final String listenHost;
    private final CompletableFuture<String> address = new CompletableFuture<>();

    /**
     * @param configured the configured advertise address, empty for none
     * @param listenHost the host of the gRPC listen address
     */
    public AdvertisedAddress(String configured, String listenHost) {
        this.configured = requireNonNull(configured, "configured");
        this.listenHost = requireNonNull(listenHost, "listenHost");
    }

    /** The gRPC listener is bound to {@code listener}. */
    public void bound(InetSocketAddress listener) {
        address.complete(configured.isEmpty() ? listenHost + ":" + listener.getPort() : configured);
    }

    @Override
    public List<String> get() {
        return io.meshfed.api.ControllerAddresses.split(address.join());
    }
}
