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
    private final Thread acceptor;

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
        acceptor = new Thread(this::serve, "echo-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * On {@code address}, at a free port below the kernel's ephemeral range ({@code ip_local_port_range}): no
     * outgoing connection ever takes such a port as its source, so once this backend is closed, a connect to its
     * port is refused rather than answered by a TCP simultaneous open with itself (on loopback the source address
     * of a connect is the destination's, so another loopback address alone does not rule that out).
     */
    public static EchoBackend belowEphemeralPorts(String address) throws IOException {
        int low = 32768;
        try {
            // Read as lines: Files.readString sizes its buffer by the file's size, which /proc reports wrongly.
            String[] range = java.nio.file.Files.readAllLines(java.nio.file.Path.of(
                    "/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+");
            int first = Integer.parseInt(range[0]);
            low = first > 2048 && first < 65536 ? first : low;
        } catch (IOException | RuntimeException e) {
            // not Linux: the usual default
        }
        int from = Math.max(1024, low - 12_000);
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        IOException last = null;
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = from + random.nextInt(Math.max(1, low - from));
            try {
                return new EchoBackend(address, port);
            } catch (IOException e) {
                last = e; // taken: another
            }
        }
        throw last;
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

    /**
     * Closes the listening socket and returns only once it is gone. While the accept thread is blocked in the kernel,
     * {@link ServerSocket#close()} only signals it: the kernel's listening socket lives until that accept call
     * returns, and in that window it still completes handshakes, and may even hand one more connection to this
     * backend. A test that stops a backend and connects at once would otherwise reach a backend it believes down.
     */
    @Override
    public void close() throws IOException {
        socket.close();
        try {
            acceptor.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (acceptor.isAlive()) {
            throw new IOException("the echo backend's accept thread did not stop");
        }
    }
}
