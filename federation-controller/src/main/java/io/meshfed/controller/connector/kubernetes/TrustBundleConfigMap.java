package io.meshfed.controller.connector.kubernetes;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeBundleJson;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code meshfed-system/meshfed-trust-bundle}: the federated bundle set for workloads of a member cluster (e.g.
 * mounted by a sidecar or an Istio cluster's trust configuration). Keys: {@code <trust domain>.json} (SPIFFE
 * bundle JSON per trust domain), {@code bundle.pem} (every root, PEM), {@code version} (the bundle set version).
 */
final class TrustBundleConfigMap {
    private TrustBundleConfigMap() {}

    static ConfigMap of(String cluster, BundleSet bundles) {
        Map<String, String> data = new LinkedHashMap<>();
        StringBuilder pem = new StringBuilder();
        bundles.bundles().stream().sorted(Comparator.comparing(b -> b.trustDomain().name())).forEach(b -> {
            data.put(b.trustDomain().name() + ".json", SpiffeBundleJson.encode(b));
            pem.append(BundleFiles.encode(b, BundleFiles.Format.PEM));
        });
        data.put("bundle.pem", pem.toString());
        data.put("version", String.valueOf(bundles.version()));
        return new ConfigMapBuilder().withMetadata(ImportedServices.meta(cluster, Mcs.SYSTEM_NAMESPACE,
                Mcs.TRUST_BUNDLE_CONFIGMAP, Map.of())).withData(data).build();
    }
}
