package io.meshfed.edge;

import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.springframework.cloud.client.DefaultServiceInstance;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.loadbalancer.core.ServiceInstanceListSupplier;
import reactor.core.publisher.Flux;

/**
 * The instances of {@code lb://<name>.<namespace>} from the federated catalog as the edge gateway's config stream
 * last delivered it: the healthy endpoints of the edge's own network that take plain connections. Endpoints behind a
 * VM agent and other networks (reached through their east-west gateway) need mTLS with the service's SNI from
 * this gateway, which this version does not do yet: they are not offered, so a service only reachable that way
 * answers 503.
 */
final class CatalogInstances implements ServiceInstanceListSupplier {
    private final String serviceId;
    private final Supplier<ConfigSnapshot> snapshot;

    CatalogInstances(String serviceId, Supplier<ConfigSnapshot> snapshot) {
        this.serviceId = serviceId;
        this.snapshot = snapshot;
    }

    @Override
    public String getServiceId() {
        return serviceId;
    }

    @Override
    public Flux<List<ServiceInstance>> get() {
        return Flux.just(instances(snapshot.get(), serviceId));
    }

    static List<ServiceInstance> instances(ConfigSnapshot snapshot, String serviceId) {
        int dot = serviceId.indexOf('.');
        if (dot <= 0) {
            return List.of();
        }
        String name = serviceId.substring(0, dot);
        String namespace = serviceId.substring(dot + 1);
        List<ServiceInstance> out = new ArrayList<>();
        for (Service s : snapshot.getServicesList()) {
            if (!s.getName().equals(name) || !s.getNamespace().equals(namespace)) {
                continue;
            }
            for (NetworkEndpoints n : s.getNetworksList()) {
                if (!n.getLocal()) {
                    continue;
                }
                for (Endpoint e : n.getEndpointsList()) {
                    if (e.getInbound().isEmpty()) {
                        out.add(new DefaultServiceInstance(e.getAddress() + ":" + e.getPort(), serviceId,
                                e.getAddress(), e.getPort(), false));
                    }
                }
            }
        }
        return out;
    }
}
