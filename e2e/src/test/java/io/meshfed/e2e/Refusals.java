package io.meshfed.e2e;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * How a gateway ended a connection it had to refuse, as its client sees it. Only a live listener's answer counts as
 * a refusal: it accepted the connection and then closed it without a byte of answer, or (TLS) answered the
 * handshake and then closed, or ended it with a TLS alert. A peer that neither answers nor closes within 10 s (a
 * hung or stopped gateway) fails the test instead of passing for a refusal.
 */
final class Refusals {
    static final String CLOSED = "closed without an answer";
    static final String HANDSHAKE_THEN_CLOSED = "handshake completed, then " + CLOSED;
    static final String ALERT = "TLS alert: ";
    private static final int TIMEOUT_MILLIS = 10_000;
    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: hello.demo\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private Refusals() {}

    /** An HTTP request in plain text on a connected socket: {@link #CLOSED}, or what came back instead. */
    static String plain(Socket s) throws IOException {
        s.setSoTimeout(TIMEOUT_MILLIS);
        s.getOutputStream().write(REQUEST);
        return ending(s, CLOSED);
    }

    /**
     * The TLS handshake, then an HTTP request: {@link #HANDSHAKE_THEN_CLOSED}, {@link #ALERT} and the alert (during
     * or right after the handshake, as TLS 1.3 sends a refused client certificate's), or what came back instead.
     */
    static String tls(SSLSocket s) throws IOException {
        s.setSoTimeout(TIMEOUT_MILLIS);
        try {
            s.startHandshake();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer to the TLS handshake within 10 s from " + s.getRemoteSocketAddress());
        } catch (SSLException e) {
            return alert(e);
        }
        try {
            s.getOutputStream().write(REQUEST);
        } catch (SSLException e) {
            return alert(e);
        } catch (SocketException closed) {
            return HANDSHAKE_THEN_CLOSED;
        }
        return ending(s, HANDSHAKE_THEN_CLOSED);
    }

    private static String ending(Socket s, String closed) throws IOException {
        byte[] answer;
        try {
            answer = s.getInputStream().readAllBytes();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("neither an answer nor a close within 10 s from " + s.getRemoteSocketAddress());
        } catch (SSLException e) {
            if (e.getCause() instanceof SocketException) {
                return closed; // reset after the peer's close (the JDK wraps it)
            }
            return alert(e);
        } catch (SocketException reset) {
            return closed;
        }
        return answer.length == 0 ? closed : "answered: " + new String(answer, StandardCharsets.UTF_8);
    }

    /** The alert the peer sent; any other TLS failure is not a refusal and is rethrown. */
    private static String alert(SSLException e) throws SSLException {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c.getMessage() != null && c.getMessage().contains("Received fatal alert")) {
                return ALERT + c.getMessage();
            }
        }
        throw e;
    }
}
