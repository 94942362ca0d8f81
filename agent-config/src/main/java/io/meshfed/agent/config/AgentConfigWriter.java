package io.meshfed.agent.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.meshfed.api.Durations;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Writes an {@link AgentConfig} as {@code agent.yaml}, in the shape {@link AgentConfig#load} reads, so that the file
 * loads back to an equal config. Keys that hold the default of their parent (a service's namespace when it is the
 * agent's) are left out; everything else is written, defaults included, so the file says what the agent will do.
 */
public final class AgentConfigWriter {
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build()).setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private AgentConfigWriter() {}

    /** The YAML text of {@code config}. */
    public static String yaml(AgentConfig config) {
        try {
            return YAML.writeValueAsString(raw(config));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write agent.yaml: " + e.getOriginalMessage(), e);
        }
    }

    private static AgentConfig.Raw raw(AgentConfig c) {
        String ns = c.namespace();
        List<AgentConfig.RawService> services = c.services().stream().map(s -> new AgentConfig.RawService(s.name(),
                s.namespace().equals(ns) ? null : s.namespace(), s.port(), hostPort(s.target()),
                s.protocol().name().toLowerCase(Locale.ROOT),
                s.checkHttpPath() == null ? null : new AgentConfig.RawCheck(s.checkHttpPath(), null),
                s.weight() == 0 ? null : s.weight())).toList();
        List<AgentConfig.RawImport> imports = c.imports().stream().map(i -> new AgentConfig.RawImport(i.service(),
                i.namespace().equals(ns) ? null : i.namespace(), i.port(), hostPort(i.listen()))).toList();
        return new AgentConfig.Raw(c.member(), c.name(), ns, c.stateDir().toString(), c.address(),
                c.locality().isEmpty() ? null : c.locality(),
                new AgentConfig.RawInbound(hostPort(c.inboundListen()), c.inboundAdvertise()),
                new AgentConfig.RawHttp(hostPort(c.httpListen())),
                new AgentConfig.RawHealth(duration(c.checkInterval()), duration(c.checkTimeout())),
                services.isEmpty() ? null : services, imports.isEmpty() ? null : imports);
    }

    /** HOST:PORT as {@link io.meshfed.api.HostPort} reads it: an IPv6 address in brackets. */
    private static String hostPort(InetSocketAddress a) {
        String host = a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** {@link Durations#format}, or milliseconds for a duration that is not whole seconds. */
    private static String duration(Duration d) {
        return d.toMillis() % 1000 == 0 ? Durations.format(d) : d.toMillis() + "ms";
    }
}
