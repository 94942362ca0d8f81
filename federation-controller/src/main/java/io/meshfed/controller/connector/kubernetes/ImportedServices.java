package io.meshfed.controller.connector.kubernetes;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.OutboundListener;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an importing cluster must hold for the services it may reach in other networks, from its snapshot (the same
 * one its gateways get): per service, a ServiceImport (type ClusterSetIP, one port per service port), and a
 * selector-less Service {@code mcs-<name>} with an EndpointSlice (labelled with both service names) whose
 * endpoints are the local east-west gateways, at the outbound listener port the controller allocated for each
 * service port. Pods reach an imported service at {@code mcs-<name>.<namespace>}, and the gateway carries the
 * connection to the service's own network over mTLS. Pure.
 */
final class ImportedServices {
    record Desired(List<GenericKubernetesResource> serviceImports, List<Service> services,
            List<EndpointSlice> endpointSlices) {}

    private ImportedServices() {}

    static Desired compute(String cluster, ConfigSnapshot snapshot, List<String> gatewayIps) {
        Map<String, List<OutboundListener>> listeners = new LinkedHashMap<>();
        for (OutboundListener l : snapshot.getOutboundList()) {
            listeners.computeIfAbsent(l.getNamespace() + "/" + l.getService(), k -> new ArrayList<>()).add(l);
        }
        List<GenericKubernetesResource> imports = new ArrayList<>();
        List<Service> services = new ArrayList<>();
        List<EndpointSlice> slices = new ArrayList<>();
        for (Map.Entry<String, List<OutboundListener>> e : listeners.entrySet()) {
            String ns = e.getValue().get(0).getNamespace();
            String name = e.getValue().get(0).getService();
            List<Map<String, Object>> importPorts = new ArrayList<>();
            ServiceBuilder derived = new ServiceBuilder().withMetadata(meta(cluster, ns, Mcs.DERIVED_PREFIX + name,
                    Map.of(Mcs.SERVICE_NAME_LABEL, name)));
            derived.editOrNewSpec().withType("ClusterIP").endSpec();
            EndpointSliceBuilder slice = new EndpointSliceBuilder().withMetadata(meta(cluster, ns,
                    Mcs.DERIVED_PREFIX + name + "-meshfed", Map.of(Mcs.SERVICE_NAME_LABEL, name,
                            Mcs.K8S_SERVICE_NAME_LABEL, Mcs.DERIVED_PREFIX + name, Mcs.MANAGED_BY_LABEL,
                            Mcs.MANAGED_BY)))
                    .withAddressType("IPv4");
            for (OutboundListener l : e.getValue()) {
                String portName = "tcp-" + l.getServicePort();
                importPorts.add(Map.of("name", portName, "port", l.getServicePort(), "protocol", "TCP"));
                derived.editSpec().addToPorts(new ServicePortBuilder().withName(portName).withProtocol("TCP")
                        .withPort(l.getServicePort()).withNewTargetPort(l.getListenPort()).build()).endSpec();
                slice.addToPorts(new EndpointPortBuilder().withName(portName).withProtocol("TCP")
                        .withPort(l.getListenPort()).build());
            }
            for (String ip : gatewayIps) {
                slice.addToEndpoints(new EndpointBuilder().withAddresses(ip).withNewConditions().withReady(true)
                        .withServing(true).withTerminating(false).endConditions().build());
            }
            imports.add(new GenericKubernetesResourceBuilder()
                    .withApiVersion(Mcs.GROUP + "/" + Mcs.VERSION).withKind("ServiceImport")
                    .withMetadata(meta(cluster, ns, name, Map.of()))
                    .withAdditionalProperties(Map.of("spec", Map.of("type", "ClusterSetIP", "ports", importPorts)))
                    .build());
            services.add(derived.build());
            slices.add(slice.build());
        }
        return new Desired(imports, services, slices);
    }

    static ObjectMeta meta(String cluster, String namespace, String name, Map<String, String> more) {
        Map<String, String> labels = new LinkedHashMap<>(more);
        labels.put(Mcs.APP_MANAGED_BY_LABEL, "meshfed");
        labels.put("meshfed.io/cluster", cluster);
        return new ObjectMetaBuilder().withNamespace(namespace).withName(name).withLabels(labels).build();
    }

    /** Whether {@code current} already says what {@code desired} says (labels and content, not server fields). */
    static boolean same(HasMetadata current, HasMetadata desired) {
        if (!java.util.Objects.equals(current.getMetadata().getLabels(), desired.getMetadata().getLabels())) {
            return false;
        }
        if (current instanceof GenericKubernetesResource c && desired instanceof GenericKubernetesResource d) {
            return java.util.Objects.equals(String.valueOf(c.getAdditionalProperties().get("spec")),
                    String.valueOf(d.getAdditionalProperties().get("spec")));
        }
        if (current instanceof Service c && desired instanceof Service d) {
            return java.util.Objects.equals(c.getSpec().getPorts(), d.getSpec().getPorts());
        }
        if (current instanceof EndpointSlice c && desired instanceof EndpointSlice d) {
            return java.util.Objects.equals(c.getEndpoints(), d.getEndpoints())
                    && java.util.Objects.equals(c.getPorts(), d.getPorts());
        }
        return false;
    }
}
