package io.meshfed.controller.connector.kubernetes;

import io.fabric8.kubernetes.api.model.AuthInfo;
import io.fabric8.kubernetes.api.model.Config;
import io.fabric8.kubernetes.api.model.NamedAuthInfo;
import io.fabric8.kubernetes.api.model.NamedCluster;
import io.fabric8.kubernetes.client.internal.KubeConfigUtils;
import java.util.Locale;

/**
 * What a connector's kubeconfig (from an admin's {@code RegisterCluster}) may hold: inline credentials only, as
 * {@code meshfed cluster join} writes them (a token or client certificate data, and CA data). fabric8 runs a user's
 * {@code exec} command and reads the files a kubeconfig names while it loads it, and connects to a server given
 * without a scheme to find out whether it speaks HTTPS; on the controller that would run a command, send a host
 * file as a credential, or open a connection, while it answers an admin request.
 */
final class ConnectorKubeconfig {
    private ConnectorKubeconfig() {}

    /**
     * @throws IllegalArgumentException naming the first entry that would run a command, read a file or connect
     * @throws RuntimeException from fabric8 when the text is not a kubeconfig
     */
    static void checkInline(String kubeconfig) {
        Config parsed = KubeConfigUtils.parseConfigFromString(kubeconfig);
        if (parsed == null) {
            return;
        }
        if (parsed.getUsers() != null) {
            for (NamedAuthInfo named : parsed.getUsers()) {
                AuthInfo u = named == null ? null : named.getUser();
                if (u == null) {
                    continue;
                }
                String where = "user '" + (named.getName() == null ? "" : named.getName()) + "'";
                refuse(u.getExec() != null, where + " runs a command (exec); give a token instead");
                refuse(u.getAuthProvider() != null, where + " uses an auth-provider; give a token instead");
                refuse(u.getTokenFile() != null, where + " names a token file; give the token inline");
                refuse(u.getClientCertificate() != null || u.getClientKey() != null,
                        where + " names client certificate files; use client-certificate-data and client-key-data");
            }
        }
        if (parsed.getClusters() != null) {
            for (NamedCluster named : parsed.getClusters()) {
                if (named == null || named.getCluster() == null) {
                    continue;
                }
                String where = "cluster '" + (named.getName() == null ? "" : named.getName()) + "'";
                refuse(named.getCluster().getCertificateAuthority() != null,
                        where + " names a CA file; use certificate-authority-data");
                String server = named.getCluster().getServer();
                refuse(server != null && !server.toLowerCase(Locale.ROOT).startsWith("https://")
                        && !server.toLowerCase(Locale.ROOT).startsWith("http://"), where + " server '" + server
                                + "' must be an https:// (or http://) URL");
            }
        }
    }

    private static void refuse(boolean condition, String message) {
        if (condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
