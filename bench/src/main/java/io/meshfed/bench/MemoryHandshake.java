package io.meshfed.bench;

import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * Drives a TLS handshake between two engines through memory buffers: pure handshake cost (crypto, certificate
 * verification, protocol), no sockets and no scheduler in the way.
 */
public final class MemoryHandshake {
    private static final int MAX_ROUNDS = 100;

    private MemoryHandshake() {}

    /** Completes the handshake or throws; returns the number of flights exchanged. */
    public static int run(SSLEngine client, SSLEngine server) throws SSLException {
        int size = Math.max(client.getSession().getPacketBufferSize(), server.getSession().getPacketBufferSize());
        ByteBuffer clientToServer = ByteBuffer.allocate(size * 4);
        ByteBuffer serverToClient = ByteBuffer.allocate(size * 4);
        ByteBuffer app = ByteBuffer.allocate(Math.max(client.getSession().getApplicationBufferSize(),
                server.getSession().getApplicationBufferSize()) * 2);
        ByteBuffer empty = ByteBuffer.allocate(0);
        client.beginHandshake();
        server.beginHandshake();
        for (int round = 1; round <= MAX_ROUNDS; round++) {
            boolean clientDone = step(client, empty, clientToServer, serverToClient, app);
            boolean serverDone = step(server, empty, serverToClient, clientToServer, app);
            if (clientDone && serverDone && clientToServer.position() == 0 && serverToClient.position() == 0) {
                return round;
            }
        }
        throw new SSLException("handshake did not complete in " + MAX_ROUNDS + " rounds (client "
                + client.getHandshakeStatus() + ", server " + server.getHandshakeStatus() + ")");
    }

    /**
     * One turn of an engine: read what the peer sent, then send what it has. True once its handshake is over (after
     * beginHandshake an engine reports NEED_WRAP or NEED_UNWRAP until then).
     */
    private static boolean step(SSLEngine engine, ByteBuffer empty, ByteBuffer out, ByteBuffer in, ByteBuffer app)
            throws SSLException {
        in.flip();
        while (in.hasRemaining()) {
            app.clear();
            SSLEngineResult r = engine.unwrap(in, app);
            runTasks(engine);
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW || r.bytesConsumed() == 0) {
                break;
            }
        }
        in.compact();
        // Wrap until nothing more comes out: OpenSSL's client says NOT_HANDSHAKING while its last flight is pending.
        while (true) {
            SSLEngineResult r = engine.wrap(empty, out);
            runTasks(engine);
            if (r.bytesProduced() == 0) {
                break;
            }
        }
        return engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING;
    }

    private static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }
}
