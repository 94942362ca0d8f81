package io.meshfed.edge;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Function;
import java.util.Optional;
import org.springframework.cloud.client.DefaultServiceInstance;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.loadbalancer.core.ServiceInstanceListSupplier;
import reactor.core.publisher.Flux;

/**
 * The instances of {@code lb://<name>.<namespace>}: the loopback listener of {@link MeshUpstreams} for that service
 * while the federated catalog offers it any upstream, none otherwise (the gateway then answers 503, naming the
 * service). Choosing among endpoints and networks happens behind that listener.
 */
final class CatalogInstances implements ServiceInstanceListSupplier {
    private final String serviceId;
    private final Function<String, Optional<InetSocketAddress>> listeners;

    CatalogInstances(String serviceId, Function<String, Optional<InetSocketAddress>> listeners) {
        this.serviceId = serviceId;
        this.listeners = listeners;
    }

    @Override
    public String getServiceId() {
        return serviceId;
    }

    @Override
    public Flux<List<ServiceInstance>> get() {
        return Flux.just(listeners.apply(serviceId).<List<ServiceInstance>>map(a -> List.of(new DefaultServiceInstance(
                serviceId + "@" + a.getPort(), serviceId, a.getHostString(), a.getPort(), false))).orElse(List.of()));
    }
}
