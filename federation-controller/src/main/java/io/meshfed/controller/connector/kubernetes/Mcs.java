package io.meshfed.controller.connector.kubernetes;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/** Names of the Multi-Cluster Services API (KEP-1645) and of what the connector owns in a member cluster. */
public final class Mcs {
    public static final String GROUP = "multicluster.x-k8s.io";
    public static final String VERSION = "v1alpha1";
    public static final ResourceDefinitionContext SERVICE_EXPORT = new ResourceDefinitionContext.Builder()
            .withGroup(GROUP).withVersion(VERSION).withKind("ServiceExport").withPlural("serviceexports")
            .withNamespaced(true).build();
    public static final ResourceDefinitionContext SERVICE_IMPORT = new ResourceDefinitionContext.Builder()
            .withGroup(GROUP).withVersion(VERSION).withKind("ServiceImport").withPlural("serviceimports")
            .withNamespaced(true).build();
    /** On EndpointSlices of imported services: the ServiceImport they belong to (the MCS rule). */
    public static final String SERVICE_NAME_LABEL = "multicluster.kubernetes.io/service-name";
    /** On EndpointSlices of every Service: the Service they belong to. */
    public static final String K8S_SERVICE_NAME_LABEL = "kubernetes.io/service-name";
    public static final String MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
    public static final String MANAGED_BY = "meshfed.io/connector";
    public static final String APP_MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    public static final String SYSTEM_NAMESPACE = "meshfed-system";
    public static final String TRUST_BUNDLE_CONFIGMAP = "meshfed-trust-bundle";
    /** The selector-less Service in front of an import's EndpointSlice: {@code mcs-<name>}. */
    public static final String DERIVED_PREFIX = "mcs-";

    private Mcs() {}

    /** Whether the connector made this object (and may change or delete it). */
    public static boolean owned(io.fabric8.kubernetes.api.model.HasMetadata o) {
        var labels = o.getMetadata().getLabels();
        return labels != null && "meshfed".equals(labels.get(APP_MANAGED_BY_LABEL));
    }
}
