package io.meshfed.controller.connector.consul;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.http.HttpRequest;
import org.apache.http.HttpRequestInterceptor;
import org.apache.http.client.methods.HttpRequestWrapper;
import org.apache.http.protocol.HttpContext;

/**
 * Moves a {@code token} query parameter into the {@code X-Consul-Token} header, so the ACL token never travels in
 * a URL (which Consul's and any proxy's access logs record). Consul reads both; the header is what its
 * documentation recommends.
 */
final class TokenInHeader implements HttpRequestInterceptor {
    static final String HEADER = "X-Consul-Token";

    @Override
    public void process(HttpRequest request, HttpContext context) {
        if (!(request instanceof HttpRequestWrapper w)) {
            return;
        }
        URI uri = w.getURI();
        String raw = uri.getRawQuery();
        if (raw == null || raw.isEmpty()) {
            return;
        }
        List<String> kept = new ArrayList<>();
        String token = null;
        for (String pair : raw.split("&")) {
            if (pair.startsWith("token=")) {
                token = URLDecoder.decode(pair.substring("token=".length()), StandardCharsets.UTF_8);
            } else if (!pair.isEmpty()) {
                kept.add(pair);
            }
        }
        if (token == null) {
            return;
        }
        String prefix = uri.isAbsolute() ? uri.getScheme() + "://" + uri.getRawAuthority() : "";
        w.setURI(URI.create(prefix + uri.getRawPath() + (kept.isEmpty() ? "" : "?" + String.join("&", kept))));
        if (!token.isEmpty()) {
            w.setHeader(HEADER, token);
        }
    }
}
