package io.meshfed.controller.connector.kubernetes;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.meshfed.api.DnsLabel;
import io.meshfed.controller.model.WorkloadSetRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What one cluster exports, computed from its informers' caches. A Service is exported when a ServiceExport of the
 * same name is in its namespace (the MCS rule). Its endpoints are the addresses and ports of the EndpointSlices
 * labelled with its name; an address in several slices counts once, and ready (default true) and not terminating
 * is healthy. Connector-made objects (imports) are never exported back. What the API server sends is checked again
 * where the mesh relies on it: names that are not DNS labels are not exported, ports outside 1-65535 are left out.
 * Pure.
 */
final class ExportedEndpoints {
    /** One ServiceExport's outcome: the MCS {@code Valid} condition's status and reason, and the service's ports. */
    record ExportState(String namespace, String name, boolean valid, String reason, String message,
            List<Integer> ports) {}

    record Result(List<WorkloadSetRecord.Workload> workloads, List<ExportState> exports) {}

    private ExportedEndpoints() {}

    static Result compute(Collection<GenericKubernetesResource> serviceExports,
            Function<String, Optional<Service>> serviceByKey, Collection<EndpointSlice> slices) {
        Map<String, List<EndpointSlice>> slicesByService = new TreeMap<>();
        for (EndpointSlice s : slices) {
            var labels = s.getMetadata().getLabels();
            String service = labels == null ? null : labels.get(Mcs.K8S_SERVICE_NAME_LABEL);
            if (service != null && !Mcs.owned(s)) {
                slicesByService.computeIfAbsent(s.getMetadata().getNamespace() + "/" + service, k -> new ArrayList<>())
                        .add(s);
            }
        }
        List<WorkloadSetRecord.Workload> workloads = new ArrayList<>();
        List<ExportState> exports = new ArrayList<>();
        List<GenericKubernetesResource> sorted = new ArrayList<>(serviceExports);
        sorted.sort(java.util.Comparator.comparing((GenericKubernetesResource e) -> e.getMetadata().getNamespace())
                .thenComparing(e -> e.getMetadata().getName()));
        for (GenericKubernetesResource export : sorted) {
            String ns = export.getMetadata().getNamespace();
            String name = export.getMetadata().getName();
            Optional<Service> service = serviceByKey.apply(ns + "/" + name);
            if (service.isEmpty()) {
                exports.add(new ExportState(ns, name, false, "ServiceNotFound",
                        "no Service " + name + " in namespace " + ns, List.of()));
                continue;
            }
            if (!DnsLabel.matches(name) || !DnsLabel.matches(ns)) { // the API server enforces it; SNIs need it
                exports.add(new ExportState(ns, name, false, "InvalidName", "service name and namespace must be DNS"
                        + " labels (" + DnsLabel.DESCRIPTION + ")", List.of()));
                continue;
            }
            if ("ExternalName".equals(service.get().getSpec().getType())) {
                exports.add(new ExportState(ns, name, false, "ServiceTypeNotSupported",
                        "ExternalName services cannot be exported", List.of()));
                continue;
            }
            Map<String, WorkloadSetRecord.Workload> unique = new LinkedHashMap<>();
            for (EndpointSlice slice : slicesByService.getOrDefault(ns + "/" + name, List.of())) {
                for (Endpoint e : slice.getEndpoints() == null ? List.<Endpoint>of() : slice.getEndpoints()) {
                    boolean healthy = e.getConditions() == null
                            || (!Boolean.FALSE.equals(e.getConditions().getReady())
                                    && !Boolean.TRUE.equals(e.getConditions().getTerminating()));
                    String zone = e.getZone() == null ? "" : e.getZone();
                    for (String address : e.getAddresses()) {
                        for (EndpointPort p : slice.getPorts() == null ? List.<EndpointPort>of() : slice.getPorts()) {
                            if (p.getPort() == null || p.getPort() < 1 || p.getPort() > 65535
                                    || (p.getProtocol() != null && !"TCP".equals(p.getProtocol()))) {
                                continue;
                            }
                            unique.merge(address + ":" + p.getPort(), new WorkloadSetRecord.Workload(name, ns, address,
                                    p.getPort(), healthy, zone, null), (a, b) -> a.healthy() ? a : b);
                        }
                    }
                }
            }
            workloads.addAll(unique.values());
            exports.add(new ExportState(ns, name, true, "ServiceExported", "exported to the federation",
                    unique.values().stream().map(WorkloadSetRecord.Workload::port).distinct().sorted().toList()));
        }
        return new Result(workloads, exports);
    }
}
