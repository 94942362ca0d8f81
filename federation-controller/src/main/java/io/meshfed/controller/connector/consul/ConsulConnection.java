package io.meshfed.controller.connector.consul;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.ConsulRawClient;
import io.meshfed.trust.Pem;
import java.io.IOException;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.http.config.RegistryBuilder;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.conn.socket.ConnectionSocketFactory;
import org.apache.http.conn.socket.PlainConnectionSocketFactory;
import org.apache.http.conn.ssl.SSLConnectionSocketFactory;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;

/**
 * The HTTP side of one Consul member: consul-api's client over an Apache HttpClient this class owns, so that closing
 * it cuts every blocking query at once. The pool holds a connection per watched service (each blocking query keeps
 * one), and the read timeout outlasts the longest wait Consul may take ({@code wait + wait/16}). consul-api sends
 * the ACL token as {@code ?token=}, where proxies and access logs would keep it: {@link TokenInHeader} moves it into
 * the {@code X-Consul-Token} header before a request leaves. An {@code https} agent is verified against the given CA
 * (or the JDK's trusted CAs) and its host name; redirects are not followed; no answer body may exceed
 * {@link BoundedResponses#MAX_BYTES}, and at most {@link BoundedResponses#CONCURRENT_BODIES} are read at once.
 */
public final class ConsulConnection implements AutoCloseable {
    private final CloseableHttpClient http;
    private final ConsulRawClient raw;
    private final ConsulClient client;

    private ConsulConnection(CloseableHttpClient http, ConsulRawClient raw) {
        this.http = http;
        this.raw = raw;
        this.client = new ConsulClient(raw);
    }

    /** A connection to the agent at {@code address} for blocking queries of {@code wait}, without a CA of its own. */
    public static ConsulConnection open(URI address, Duration wait) {
        return open(address, "", wait);
    }

    /**
     * A connection to the agent at {@code address} ({@code http://host:port} or {@code https://host:port}); for
     * https, {@code caPem} is the CA its certificate chains to (empty: the JDK's trusted CAs).
     */
    public static ConsulConnection open(URI address, String caPem, Duration wait) {
        String scheme = address.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || address.getHost() == null) {
            throw new IllegalArgumentException("Consul address '" + address + "' must be http://HOST:PORT or"
                    + " https://HOST:PORT");
        }
        if (!caPem.isBlank() && scheme.equals("http")) {
            throw new IllegalArgumentException("a CA file needs an https:// Consul address, not '" + address + "'");
        }
        int port = address.getPort() >= 0 ? address.getPort() : scheme.equals("https") ? 8501 : 8500;
        RegistryBuilder<ConnectionSocketFactory> sockets = RegistryBuilder.<ConnectionSocketFactory>create()
                .register("http", PlainConnectionSocketFactory.getSocketFactory());
        if (scheme.equals("https")) {
            sockets.register("https", new SSLConnectionSocketFactory(sslContext(caPem), new String[] {"TLSv1.3",
                "TLSv1.2"}, null, SSLConnectionSocketFactory.getDefaultHostnameVerifier()));
        }
        PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager(sockets.build());
        pool.setMaxTotal(ConsulCatalogWatch.MAX_SERVICES + 8);
        pool.setDefaultMaxPerRoute(ConsulCatalogWatch.MAX_SERVICES + 8);
        int readTimeout = (int) (wait.toMillis() + wait.toMillis() / 16 + 10_000);
        RequestConfig config = RequestConfig.custom().setConnectTimeout(5_000).setConnectionRequestTimeout(5_000)
                .setSocketTimeout(readTimeout).build();
        CloseableHttpClient http = HttpClients.custom().setConnectionManager(pool).setDefaultRequestConfig(config)
                .disableAutomaticRetries().disableRedirectHandling() // an agent never sends us elsewhere
                .addInterceptorLast(new TokenInHeader())
                .addInterceptorLast(new BoundedResponses()).build();
        ConsulRawClient raw = ConsulRawClient.Builder.builder().setHost(scheme + "://" + address.getHost())
                .setPort(port).setHttpClient(http).build();
        return new ConsulConnection(http, raw);
    }

    private static SSLContext sslContext(String caPem) {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (caPem.isBlank()) {
                tmf.init((KeyStore) null);
            } else {
                List<X509Certificate> cas = Pem.readCertificates(caPem);
                if (cas.isEmpty()) {
                    throw new IllegalArgumentException("the CA file holds no certificate");
                }
                KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                for (int i = 0; i < cas.size(); i++) {
                    store.setCertificateEntry("ca-" + i, cas.get(i));
                }
                tmf.init(store);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot use the Consul CA: " + e.getMessage(), e);
        }
    }

    public ConsulClient client() {
        return client;
    }

    /** For the endpoints consul-api has no method for ({@code /v1/acl/token/self}). */
    ConsulRawClient raw() {
        return raw;
    }

    @Override
    public void close() {
        try {
            http.close();
        } catch (IOException e) {
            // closing: nothing left to tell anyone
        }
    }
}
