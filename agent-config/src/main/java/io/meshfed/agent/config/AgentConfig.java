package io.meshfed.agent.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.meshfed.api.DnsLabel;
import io.meshfed.api.Durations;
import io.meshfed.api.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * agent.yaml, validated: every problem is reported with the file and the key it is under, and unknown keys are
 * errors (a typo must not be ignored). See the README for the format.
 */
public record AgentConfig(Path file, String member, String name, String namespace, Path stateDir, String address,
        String locality, InetSocketAddress inboundListen, String inboundAdvertise, InetSocketAddress httpListen,
        Duration checkInterval, Duration checkTimeout, List<LocalService> services, List<Import> imports) {

    /**
     * A service of this VM: peers ask for {@code name.namespace:port}; the agent forwards to {@code target}. Its
     * {@code weight} (1 to {@link #MAX_WEIGHT}; 0 when not set, which balancers read as 1) is its share of the
     * service's traffic beside the other endpoints of its tier.
     */
    public record LocalService(String name, String namespace, int port, InetSocketAddress target, Protocol protocol,
            String checkHttpPath, int weight) {
        /** A service without a weight of its own. */
        public LocalService(String name, String namespace, int port, InetSocketAddress target, Protocol protocol,
                String checkHttpPath) {
            this(name, namespace, port, target, protocol, checkHttpPath, 0);
        }

        public String key() {
            return name + "." + namespace + ":" + port;
        }
    }

    /** An imported service exposed on a local listener. */
    public record Import(String service, String namespace, int port, InetSocketAddress listen) {
        public String key() {
            return service + "." + namespace + ":" + port;
        }
    }

    /** The largest weight a service may have (as the controller bounds what agents report). */
    public static final int MAX_WEIGHT = 1000;

    public enum Protocol {
        HTTP, TCP
    }

    /** A bad agent.yaml; the message names the file and the key. */
    public static final class ConfigException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ConfigException(String message) {
            super(message);
        }
    }


    // The file's shape, as Jackson reads it.
    record RawInbound(String listen, String advertise) {}

    record RawHttp(String listen) {}

    record RawHealth(String interval, String timeout) {}

    record RawCheck(String http, Boolean tcp) {}

    record RawService(String name, String namespace, Integer port, String target, String protocol, RawCheck check,
            Integer weight) {}

    record RawImport(String service, String namespace, Integer port, String listen) {}

    record Raw(String member, String name, String namespace, @JsonProperty("stateDir") String stateDir, String address,
            String locality, RawInbound inbound, RawHttp http, RawHealth healthCheck, List<RawService> services,
            List<RawImport> imports) {}

    /** The raw records' class names, as Jackson's path references spell them, left out of messages. */
    private static final String RAW_CLASSES = Pattern.quote(AgentConfig.class.getName() + "$Raw") + "\\w*";

    /** Reads and validates {@code file}. */
    public static AgentConfig load(Path file) {
        Raw raw;
        try {
            raw = new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .readValue(Files.readString(file), Raw.class);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (JsonMappingException e) {
            throw new ConfigException(file + ": " + e.getOriginalMessage().replaceAll(" \\(class .*", "")
                    + " at " + e.getPathReference().replaceAll(RAW_CLASSES, ""));
        } catch (IOException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
        if (raw == null) {
            throw new ConfigException(file + ": empty; it needs at least member, name and services");
        }
        return new Validator(file).validate(raw);
    }

    /** Turns the raw file into a config, collecting the first problem with its key. */
    private static final class Validator {
        private final Path file;

        Validator(Path file) {
            this.file = file;
        }

        private ConfigException bad(String key, String problem) {
            return new ConfigException(file + ": " + key + ": " + problem);
        }

        private String label(String key, String value, String fallback) {
            String v = value == null ? fallback : value;
            if (v == null) {
                throw bad(key, "is required");
            }
            if (!DnsLabel.matches(v)) {
                throw bad(key, "'" + v + "' " + DnsLabel.RULE);
            }
            return v;
        }

        private InetSocketAddress hostPort(String key, String value, String fallback) {
            String v = value == null ? fallback : value;
            if (v == null) {
                throw bad(key, "is required (HOST:PORT)");
            }
            try {
                return HostPort.parseResolved(v); // a literal or a name this host resolves now
            } catch (IllegalArgumentException e) {
                throw bad(key, "'" + v + "' " + e.getMessage());
            }
        }

        private Path path(String key, String value) {
            try {
                return Path.of(value);
            } catch (java.nio.file.InvalidPathException e) {
                throw bad(key, "'" + value.replace('\0', ' ') + "' is not a path: " + e.getReason());
            }
        }

        private Duration duration(String key, String value, String fallback) {
            try {
                return Durations.parse(value == null ? fallback : value);
            } catch (IllegalArgumentException e) {
                throw bad(key, e.getMessage());
            }
        }

        private int port(String key, Integer value) {
            if (value == null) {
                throw bad(key, "is required");
            }
            if (value < 1 || value > 65535) {
                throw bad(key, value + " is outside 1-65535");
            }
            return value;
        }

        AgentConfig validate(Raw raw) {
            String member = label("member", raw.member(), null);
            String name = label("name", raw.name(), null);
            String namespace = label("namespace", raw.namespace(), "default");
            Path stateDir = path("stateDir", raw.stateDir() == null ? "/var/lib/meshfed-agent" : raw.stateDir());
            RawInbound in = raw.inbound() == null ? new RawInbound(null, null) : raw.inbound();
            InetSocketAddress inbound = hostPort("inbound.listen", in.listen(), "0.0.0.0:15006");
            String address = raw.address() != null ? raw.address() : inbound.getHostString();
            if (address.equals("0.0.0.0") || address.equals("::") || address.isBlank()) {
                throw bad("address", "is required when inbound.listen is a wildcard address: the address peers"
                        + " reach this VM at");
            }
            String advertise = in.advertise();
            if (advertise != null) {
                hostPort("inbound.advertise", advertise, null);
            }
            InetSocketAddress http = hostPort("http.listen", raw.http() == null ? null : raw.http().listen(),
                    "127.0.0.1:15020");
            RawHealth health = raw.healthCheck() == null ? new RawHealth(null, null) : raw.healthCheck();
            Duration interval = duration("healthCheck.interval", health.interval(), "5s");
            Duration timeout = duration("healthCheck.timeout", health.timeout(), "2s");
            List<LocalService> services = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            List<RawService> rawServices = raw.services() == null ? List.of() : raw.services();
            for (int i = 0; i < rawServices.size(); i++) {
                RawService s = rawServices.get(i);
                String k = "services[" + i + "]";
                if (s == null) {
                    throw bad(k, "is empty; a service needs at least name and port");
                }
                String sName = label(k + ".name", s.name(), null);
                String sNs = label(k + ".namespace", s.namespace(), namespace);
                int port = port(k + ".port", s.port());
                InetSocketAddress target = hostPort(k + ".target", s.target(), "127.0.0.1:" + port);
                Protocol protocol;
                try {
                    protocol = Protocol.valueOf((s.protocol() == null ? "tcp" : s.protocol()).toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw bad(k + ".protocol", "'" + s.protocol() + "' must be http or tcp");
                }
                String path = null;
                if (s.check() != null && s.check().http() != null) {
                    if (!s.check().http().startsWith("/")) {
                        throw bad(k + ".check.http", "'" + s.check().http() + "' must be a path starting with /");
                    }
                    if (Boolean.TRUE.equals(s.check().tcp())) {
                        throw bad(k + ".check", "set http or tcp, not both");
                    }
                    path = s.check().http();
                }
                int weight = 0;
                if (s.weight() != null) {
                    if (s.weight() < 1 || s.weight() > MAX_WEIGHT) {
                        throw bad(k + ".weight", s.weight() + " is outside 1-" + MAX_WEIGHT);
                    }
                    weight = s.weight();
                }
                LocalService service = new LocalService(sName, sNs, port, target, protocol, path, weight);
                if (!seen.add(service.key())) {
                    throw bad(k, service.key() + " is declared twice");
                }
                services.add(service);
            }
            List<Import> imports = new ArrayList<>();
            List<RawImport> rawImports = raw.imports() == null ? List.of() : raw.imports();
            Set<InetSocketAddress> listens = new HashSet<>();
            for (int i = 0; i < rawImports.size(); i++) {
                RawImport m = rawImports.get(i);
                String k = "imports[" + i + "]";
                if (m == null) {
                    throw bad(k, "is empty; an import needs service, port and listen");
                }
                Import imp = new Import(label(k + ".service", m.service(), null),
                        label(k + ".namespace", m.namespace(), namespace), port(k + ".port", m.port()),
                        hostPort(k + ".listen", m.listen(), null));
                if (!listens.add(imp.listen())) {
                    throw bad(k + ".listen", m.listen() + " is used by another import");
                }
                imports.add(imp);
            }
            if (services.isEmpty() && imports.isEmpty()) {
                throw bad("services", "declare at least one service or import");
            }
            return new AgentConfig(file, member, name, namespace, stateDir, address,
                    raw.locality() == null ? "" : raw.locality(), inbound, advertise, http, interval, timeout,
                    List.copyOf(services), List.copyOf(imports));
        }
    }
}
