package io.meshfed.controller.connector.consul;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.ConsulRawClient;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;

/**
 * The HTTP side of one Consul member: consul-api's client over an Apache HttpClient this class owns, so that closing
 * it cuts every blocking query at once. The pool holds a connection per watched service (each blocking query keeps
 * one), and the read timeout outlasts the longest wait Consul may take ({@code wait + wait/16}). consul-api sends
 * the ACL token as {@code ?token=}, where proxies and access logs would keep it: {@link TokenInHeader} moves it into
 * the {@code X-Consul-Token} header before a request leaves.
 */
public final class ConsulConnection implements AutoCloseable {
    private final CloseableHttpClient http;
    private final ConsulClient client;

    private ConsulConnection(CloseableHttpClient http, ConsulClient client) {
        this.http = http;
        this.client = client;
    }

    /** A connection to the agent at {@code address} ({@code http://host:port}) for blocking queries of {@code wait}. */
    public static ConsulConnection open(URI address, Duration wait) {
        if (address.getScheme() == null || !address.getScheme().equals("http") || address.getHost() == null) {
            throw new IllegalArgumentException("Consul address '" + address + "' must be http://HOST:PORT");
        }
        int port = address.getPort() < 0 ? 8500 : address.getPort();
        PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
        pool.setMaxTotal(ConsulCatalogWatch.MAX_SERVICES + 8);
        pool.setDefaultMaxPerRoute(ConsulCatalogWatch.MAX_SERVICES + 8);
        int readTimeout = (int) (wait.toMillis() + wait.toMillis() / 16 + 10_000);
        RequestConfig config = RequestConfig.custom().setConnectTimeout(5_000).setConnectionRequestTimeout(5_000)
                .setSocketTimeout(readTimeout).build();
        CloseableHttpClient http = HttpClients.custom().setConnectionManager(pool).setDefaultRequestConfig(config)
                .disableAutomaticRetries().addInterceptorLast(new TokenInHeader()).build();
        ConsulRawClient raw = ConsulRawClient.Builder.builder().setHost("http://" + address.getHost()).setPort(port)
                .setHttpClient(http).build();
        return new ConsulConnection(http, new ConsulClient(raw));
    }

    public ConsulClient client() {
        return client;
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
