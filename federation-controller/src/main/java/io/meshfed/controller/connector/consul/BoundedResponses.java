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
    /** 16 MiB: 5,000 instances of one service with their checks take under 10 MiB. */
    static final long MAX_BYTES = 16L << 20;
    /**
     * At most this many answers of one member are read at once (consul-api holds each whole in memory, then
     * parses it): a datacenter answering every watch at once with large bodies costs at most this many times
     * {@link #MAX_BYTES}, not one per watched service.
     */
    static final int CONCURRENT_BODIES = 4;

    /** An answer longer than the bound. */
    static final class TooLarge extends IOException {
        private static final long serialVersionUID = 1L;

        TooLarge(String message) {
            super(message);
        }
    }

    private final java.util.concurrent.Semaphore reading = new java.util.concurrent.Semaphore(CONCURRENT_BODIES);

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
            throw new TooLarge("the answer declares " + entity.getContentLength() + " bytes, more than the "
                    + max + " a Consul answer may have");
        }
        response.setEntity(new HttpEntityWrapper(entity) {
            @Override
            public InputStream getContent() throws IOException {
                try {
                    reading.acquire();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted waiting to read an answer");
                }
                try {
                    return new Limited(super.getContent(), max, reading::release);
                } catch (IOException | RuntimeException e) {
                    reading.release();
                    throw e;
                }
            }
        });
    }

    private static final class Limited extends FilterInputStream {
        private final long max;
        private final Runnable onClose;
        private long read;
        private boolean closed;

        Limited(InputStream in, long max, Runnable onClose) {
            super(in);
            this.max = max;
            this.onClose = onClose;
        }

        @Override
        public void close() throws IOException {
            try {
                super.close();
            } finally {
                if (!closed) {
                    closed = true;
                    onClose.run();
                }
            }
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
                throw new TooLarge("the answer is longer than the " + max + " bytes a Consul answer may have");
            }
        }
    }
}
