package io.meshfed.controller.store.postgres;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A PostgreSQL database named as {@code postgres://USER@HOST[:PORT][,HOST2[:PORT]…]/DATABASE[?PARAM=VALUE&…]} (or
 * {@code postgresql://}). The password is never part of it: it comes from a file or the environment, so that it is
 * neither on a command line nor in a log line that prints the location. Parameters are the PostgreSQL JDBC driver's
 * (for example {@code sslmode=verify-full&sslrootcert=/etc/meshfed/pg-ca.crt}); several hosts give the driver's
 * failover between them, with {@code targetServerType=primary} to pick the writable one.
 */
public record PostgresLocation(String hosts, String database, String user, Map<String, String> parameters) {
    /** Parameters that would carry a secret or bypass the password source. */
    private static final Set<String> REFUSED = Set.of("password", "sslpassword");

    public PostgresLocation {
        parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters)); // in the given order
    }

    /**
     * Parses a location.
     *
     * @throws IllegalArgumentException naming what is wrong, without echoing a password that was given
     */
    public static PostgresLocation parse(String text) {
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a PostgreSQL URL (postgres://USER@HOST[:PORT]/DATABASE): "
                    + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("postgres") && !scheme.equals("postgresql")) {
            throw new IllegalArgumentException("a PostgreSQL URL starts with postgres://");
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isBlank()) {
            throw new IllegalArgumentException("the PostgreSQL URL names no host: postgres://USER@HOST[:PORT]/DATABASE");
        }
        int at = authority.lastIndexOf('@');
        String userInfo = at < 0 ? "" : authority.substring(0, at);
        String hosts = at < 0 ? authority : authority.substring(at + 1);
        if (userInfo.contains(":")) {
            throw new IllegalArgumentException("the PostgreSQL URL must not carry a password (it would show on command"
                    + " lines and in logs): give it in storePasswordFile or MESHFED_STORE_PASSWORD");
        }
        String user = decode(userInfo);
        if (user.isEmpty()) {
            throw new IllegalArgumentException("the PostgreSQL URL names no user: postgres://USER@HOST[:PORT]/DATABASE");
        }
        if (hosts.isBlank() || !hosts.matches("[A-Za-z0-9.\\-\\[\\]:,]+")) {
            throw new IllegalArgumentException("the PostgreSQL URL's hosts '" + hosts + "' are not HOST[:PORT][,…]");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String database = decode(path.startsWith("/") ? path.substring(1) : path);
        if (database.isEmpty() || database.contains("/")) {
            throw new IllegalArgumentException("the PostgreSQL URL names no database: postgres://USER@HOST[:PORT]/DATABASE");
        }
        Map<String, String> parameters = new LinkedHashMap<>();
        String query = uri.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                if (REFUSED.contains(key.toLowerCase(Locale.ROOT))) {
                    throw new IllegalArgumentException("the PostgreSQL URL must not carry a " + key + " parameter:"
                            + " give the password in storePasswordFile or MESHFED_STORE_PASSWORD");
                }
                parameters.put(key, eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
        }
        return new PostgresLocation(hosts, database, user, parameters);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** The driver's URL: hosts, database and parameters; the user and password go separately. */
    public String jdbcUrl() {
        StringBuilder url = new StringBuilder("jdbc:postgresql://").append(hosts).append('/')
                .append(java.net.URLEncoder.encode(database, StandardCharsets.UTF_8));
        String sep = "?";
        for (Map.Entry<String, String> p : parameters.entrySet()) {
            url.append(sep).append(java.net.URLEncoder.encode(p.getKey(), StandardCharsets.UTF_8)).append('=')
                    .append(java.net.URLEncoder.encode(p.getValue(), StandardCharsets.UTF_8));
            sep = "&";
        }
        return url.toString();
    }

    /** The location as users write it, for messages and logs (it holds no secret). */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("postgres://").append(user).append('@').append(hosts).append('/')
                .append(database);
        if (!parameters.isEmpty()) {
            s.append('?');
            parameters.forEach((k, v) -> s.append(k).append('=').append(v).append('&'));
            s.setLength(s.length() - 1);
        }
        return s.toString();
    }
}
