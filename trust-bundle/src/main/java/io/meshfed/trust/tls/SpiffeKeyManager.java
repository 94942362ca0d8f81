package io.meshfed.trust.tls;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.X509Svid;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Presents the current SVID of a {@link TlsCredentials}. The alias names the SVID by its serial number and the SVIDs
 * behind recently chosen aliases are remembered, so a handshake that chose an alias just before a swap still gets the
 * chain and key of one and the same SVID.
 */
public final class SpiffeKeyManager extends X509ExtendedKeyManager {
    private static final int REMEMBERED = 4;

    private final TlsCredentials credentials;
    private final Map<String, X509Svid> recent = new ConcurrentHashMap<>();

    public SpiffeKeyManager(TlsCredentials credentials) {
        this.credentials = requireNonNull(credentials, "credentials");
    }

    private static String alias(X509Svid svid) {
        return "svid-" + svid.leaf().getSerialNumber().toString(16);
    }

    /** Key types are "EC", "RSA", or OpenSSL's "EC_EC", "EC_RSA", ... whose first part is the key's algorithm. */
    private static boolean fits(X509Svid svid, String keyType) {
        String algorithm = svid.privateKey().getAlgorithm();
        return keyType == null || keyType.equals(algorithm) || keyType.startsWith(algorithm + "_");
    }

    private String choose(String... keyTypes) {
        X509Svid current = credentials.svid();
        boolean fits = keyTypes == null || keyTypes.length == 0;
        for (int i = 0; !fits && i < keyTypes.length; i++) {
            fits = fits(current, keyTypes[i]);
        }
        if (!fits) {
            return null;
        }
        String alias = alias(current);
        if (recent.putIfAbsent(alias, current) == null && recent.size() > REMEMBERED) {
            recent.keySet().removeIf(a -> !a.equals(alias) && recent.size() > REMEMBERED);
        }
        return alias;
    }

    private X509Svid byAlias(String alias) {
        X509Svid current = credentials.svid();
        return alias(current).equals(alias) ? current : recent.get(alias);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        X509Svid current = credentials.svid();
        return fits(current, keyType) ? new String[] {alias(current)} : null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return choose(keyType);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return choose(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return choose(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return choose(keyType);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        X509Svid svid = byAlias(alias);
        return svid == null ? null : svid.chain().toArray(new X509Certificate[0]);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        X509Svid svid = byAlias(alias);
        return svid == null ? null : svid.privateKey();
    }
}
