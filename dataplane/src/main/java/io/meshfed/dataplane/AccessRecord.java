package io.meshfed.dataplane;

import static io.meshfed.dataplane.AccessLogJson.field;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One downstream connection (or tunnel stream) as its access log line tells it, written to the logger
 * {@code meshfed.access} when it closes: one JSON object per line, with the fields of README.md's "Access logs"
 * ({@code time}, {@code listener}, {@code source}, {@code caller}, {@code as}, {@code service}, {@code upstream},
 * {@code sni}, {@code transport}, {@code peer}, {@code bytes_in}, {@code bytes_out}, {@code duration_ms}, {@code result},
 * {@code reason}); a field that is not known is left out. Kept on the downstream channel ({@link #of}); set from the
 * listener's event loop, counted from both sides' loops.
 */
final class AccessRecord {
    static final String LOGGER = "meshfed.access";
    private static final Logger ACCESS = LoggerFactory.getLogger(LOGGER);
    private static final AttributeKey<AccessRecord> KEY = AttributeKey.valueOf("meshfed.accessRecord");

    private final long startMillis = System.currentTimeMillis();
    private final long startNanos = System.nanoTime();
    private final String listener;
    private final String source;
    private volatile String caller;
    private volatile String presented;
    private volatile String service;
    private volatile String upstream;
    private volatile String sni;
    private volatile String transport;
    private volatile String peer;
    private volatile String result = "closed";
    private volatile String reason;
    final AtomicLong bytesIn = new AtomicLong();
    final AtomicLong bytesOut = new AtomicLong();

    private AccessRecord(String listener, String source) {
        this.listener = listener;
        this.source = source;
    }

    /** Starts the record of {@code downstream}, accepted on {@code listener}; its line is written when it closes. */
    static AccessRecord open(Channel downstream, String listener) {
        AccessRecord r = new AccessRecord(listener, String.valueOf(downstream.remoteAddress()));
        downstream.attr(KEY).set(r);
        downstream.closeFuture().addListener(f -> r.write());
        return r;
    }

    /** The record of {@code downstream}; empty for a channel no listener opened one for. */
    static Optional<AccessRecord> of(Channel downstream) {
        return Optional.ofNullable(downstream.attr(KEY).get());
    }

    void caller(String who) {
        this.caller = who;
    }

    /** The dial of {@code target} for {@code from} began; a plain client's address is already its source. */
    void dialling(String target, DialCaller from) {
        this.service = target;
        if (from.identified()) {
            this.caller = from.from();
        }
    }

    /** Carried: to {@code to}, over {@code link}. */
    void carried(Upstream to, UpstreamLink link, DialCaller from) {
        this.upstream = to.host() + ":" + to.port();
        this.sni = to.sni();
        this.transport = link.transport();
        this.peer = link.peer().map(Object::toString).orElse(null);
        this.presented = from.identified() ? null : link.presented().map(Object::toString).orElse(null);
        this.result = "ok";
    }

    /** Refused, with the label its refusal counts under ({@code meshfed_refusals_total{reason}}). */
    void refused(RefusalReason why) {
        this.result = "refused";
        this.reason = why.label();
    }

    private void write() {
        if (ACCESS.isInfoEnabled()) {
            ACCESS.info(line());
        }
    }

    /** The JSON line. */
    String line() {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = AccessLogJson.generator(out)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.ofEpochMilli(startMillis).toString());
            g.writeStringField("listener", listener);
            g.writeStringField("source", source);
            field(g, "caller", caller);
            field(g, "as", presented);
            field(g, "service", service);
            field(g, "upstream", upstream);
            field(g, "sni", sni);
            field(g, "transport", transport);
            field(g, "peer", peer);
            g.writeNumberField("bytes_in", bytesIn.get());
            g.writeNumberField("bytes_out", bytesOut.get());
            g.writeNumberField("duration_ms", (System.nanoTime() - startNanos) / 1_000_000);
            g.writeStringField("result", result);
            field(g, "reason", reason);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }
}
