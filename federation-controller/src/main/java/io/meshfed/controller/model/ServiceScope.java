package io.meshfed.controller.model;

import java.util.List;

/**
 * What an agent may register, as an admin decided when creating its join token: the agent's namespace (the
 * {@code /ns/} part of its SPIFFE ID) and either the named services ({@code name.namespace}) or, when
 * {@code services} is empty, any service of that namespace.
 */
public record ServiceScope(String namespace, List<String> services) {
    public ServiceScope {
        services = services == null ? List.of() : List.copyOf(services);
    }

    /** Whether a workload of {@code service.namespace} may be registered under this scope. */
    public boolean allows(String service, String serviceNamespace) {
        if (services.isEmpty()) {
            return namespace.equals(serviceNamespace);
        }
        return services.contains(service + "." + serviceNamespace);
    }

    @Override
    public String toString() {
        return services.isEmpty() ? "any service of namespace " + namespace : String.join(", ", services);
    }
}
