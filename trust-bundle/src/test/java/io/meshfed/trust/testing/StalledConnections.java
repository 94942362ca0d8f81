package io.meshfed.trust.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Connections an attacker opens, starts and never finishes (slowloris): each sends a prefix and then nothing, and
 * is held until the server closes it. Shared by the tests of every HTTP listener.
 */
public final class StalledConnections implements AutoCloseable {
    /** The first 3 bytes of a TLS record header (type handshake, version 3.1): half a ClientHello's record. */
    public static final byte[] HALF_TLS_RECORD = {0x16, 0x03, 0x01};

    private final List<Socket> sockets;

    private StalledConnections(List<Socket> sockets) {
        this.sockets = sockets;
    }

    /** A request whose headers never end. */
    public static byte[] unfinishedRequest(String path) {
        return ("GET " + path + " HTTP/1.1\r\nHost: x\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Opens {@code count} connections to {@code address}, each sending {@code prefix} and nothing more. */
    public static StalledConnections open(InetSocketAddress address, int count, byte[] prefix) throws IOException {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                Socket s = new Socket();
                sockets.add(s);
                s.connect(address, 5_000);
                s.getOutputStream().write(prefix);
                s.getOutputStream().flush();
            }
        } catch (IOException e) {
            new StalledConnections(sockets).close();
            throw e;
        }
        return new StalledConnections(sockets);
    }

    /** How many of the connections the server has neither closed nor answered. */
    public int open() throws IOException {
        int open = 0;
        for (Socket s : sockets) {
            s.setSoTimeout(5);
            try {
                s.getInputStream().read();
            } catch (SocketTimeoutException e) {
                open++;
            } catch (IOException e) {
                // reset by the server: closed
            }
        }
        return open;
    }

    /**
     * Waits at most {@code limit} for the server to close each connection (end of stream or reset; an alert or
     * error response before it is read and ignored) and returns how many it left open.
     */
    public int leftOpenAfter(Duration limit) throws IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        int left = 0;
        for (Socket s : sockets) {
            InputStream in = s.getInputStream();
            try {
                while (true) {
                    long remaining = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                    s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remaining));
                    if (in.read() == -1) {
                        break;
                    }
                }
            } catch (SocketTimeoutException e) {
                left++;
            } catch (IOException e) {
                // reset by the server: closed
            }
        }
        return left;
    }

    @Override
    public void close() {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // closing a test connection: nothing to do
            }
        }
    }
}
