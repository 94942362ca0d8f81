package io.meshfed.controller.connector.consul;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.http.HttpEntity;
import org.apache.http.HttpResponse;
import org.apache.http.HttpResponseInterceptor;
import org.apache.http.entity.HttpEntityWrapper;
import org.apache.http.protocol.HttpContext;

/**
 * Bounds every answer body from a Consul agent: a member's report is untrusted, and consul-api reads a body whole
 * into memory. A body that declares, or turns out to have, more than {@link #MAX_BYTES} fails its request with an
 * {@link IOException} that says so, which the watch reports as the endpoint's error and retries with backoff.
 */
final class BoundedResponses implements HttpResponseInterceptor {
    /** 64 MiB: 5,000 instances of one service with their checks take a few MiB. */
    static final long MAX_BYTES = 64L << 20;

    private final long max;

    BoundedResponses() {
        this(MAX_BYTES);
    }

    BoundedResponses(long max) {
        this.max = max;
    }

    @Override
    public void process(HttpResponse response, HttpContext context) throws IOException {
        HttpEntity entity = response.getEntity();
        if (entity == null) {
            return;
        }
        if (entity.getContentLength() > max) {
            throw new IOException("the answer declares " + entity.getContentLength() + " bytes, more than the "
                    + max + " a Consul answer may have");
        }
        response.setEntity(new HttpEntityWrapper(entity) {
            @Override
            public InputStream getContent() throws IOException {
                return new Limited(super.getContent(), max);
            }
        });
    }

    private static final class Limited extends FilterInputStream {
        private final long max;
        private long read;

        Limited(InputStream in, long max) {
            super(in);
            this.max = max;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        private void count(int n) throws IOException {
            read += n;
            if (read > max) {
                throw new IOException("the answer is longer than the " + max + " bytes a Consul answer may have");
            }
        }
    }
}
