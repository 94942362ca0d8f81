package io.meshfed.dataplane.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/** A TCP echo server on 127.0.0.1 standing in for a workload; counts the connections that reached it. */
public final class EchoBackend implements AutoCloseable {
    private final ServerSocket socket;
    private final AtomicInteger connections = new AtomicInteger();

    public EchoBackend() throws IOException {
        this(0);
    }

    /** On {@code port} of 127.0.0.1 (0: any). */
    public EchoBackend(int port) throws IOException {
        this("127.0.0.1", port);
    }

    /**
     * On {@code port} of {@code address} (0: any), e.g. the port of one that was closed, as a restarted workload. A
     * test that closes a backend and expects its port to refuse should bind it to a loopback address other than
     * 127.0.0.1: connects from this host leave from 127.0.0.1, and a connect to a closed port of 127.0.0.1 that the
     * kernel happens to give that same port as its source completes as a TCP simultaneous open with itself, which
     * echoes whatever is sent as if the workload had answered.
     */
    public EchoBackend(String address, int port) throws IOException {
        socket = new ServerSocket();
        socket.setReuseAddress(port != 0); // to take a closed one's port again; never for a new one (Linux may share it)
        socket.bind(new java.net.InetSocketAddress(InetAddress.getByName(address), port), 50);
        Thread accept = new Thread(this::serve, "echo-backend");
        accept.setDaemon(true);
        accept.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** Connections that reached the workload so far. */
    public AtomicInteger connections() {
        return connections;
    }

    /** Sends {@code text} on {@code s} and reads as many bytes back (an echo through whatever is in between). */
    public static String exchange(Socket s, String text) throws IOException {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        return new String(s.getInputStream().readNBytes(text.length()), java.nio.charset.StandardCharsets.UTF_8);
    }

    private void serve() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                connections.incrementAndGet();
                Thread t = new Thread(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        in.transferTo(out);
                    } catch (IOException ignored) {
                        // the client went away
                    }
                });
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
