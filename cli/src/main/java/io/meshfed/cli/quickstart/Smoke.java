package io.meshfed.cli.quickstart;

import io.meshfed.api.AdminFiles;
import io.meshfed.api.ServiceSni;
import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SvidFiles;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * {@code meshfed quickstart --smoke}: one call that must work (west to hello.demo in east, through both gateways)
 * and calls that must be refused at east's gateway before reaching hello.demo: plaintext, and mTLS with an
 * identity hello.demo is not exported to (the federation admin's). Each refusal is confirmed by the gateway's own
 * refusal counter.
 */
final class Smoke {
    private static final Pattern REFUSALS = Pattern.compile(
            "meshfed_gateway_refusals_total\\{reason=\"([a-z_]+)\"} ([0-9.E]+)");

    private final PrintWriter out;
    private final Path adminHome;
    private final Map<String, Object> state;

    Smoke(PrintWriter out, Path adminHome, Map<String, Object> state) {
        this.out = out;
        this.adminHome = adminHome;
        this.state = state;
    }

    @SuppressWarnings("unchecked")
    boolean run() {
        String via = (String) ((Map<String, Object>) state.get("entries"))
                .get("hello.demo from west through both gateways");
        boolean ok = true;
        try {
            String body = get(via, "/smoke").strip();
            boolean good = body.equals("hello from hello.demo in network east");
            ok &= report(good, "cross-network call from west through both gateways (" + via + "): " + body);
        } catch (IOException e) {
            ok &= report(false, "cross-network call through " + via + " failed: " + e);
        }
        for (String[] edge : new String[][] {{"/hello/smoke", "hello from hello.demo in network east"},
            {"/echo/smoke", "GET /smoke"}}) {
            try {
                String body = get(Layout.EDGE, edge[0]).strip();
                ok &= report(body.startsWith(edge[1]), "through the edge gateway (" + Layout.EDGE + edge[0] + "): "
                        + body.lines().findFirst().orElse(""));
            } catch (IOException e) {
                ok &= report(false, "through the edge gateway (" + Layout.EDGE + edge[0] + ") failed: " + e);
            }
        }
        ok &= refused("plaintext to east's gateway", "handshake", this::plaintext);
        ok &= refused("mTLS as " + adminSvid().id() + ", to whom hello.demo is not exported", "unauthorized",
                this::asAdmin);
        out.println(ok ? "smoke: PASS" : "smoke: FAIL");
        out.flush();
        return ok;
    }

    private boolean report(boolean good, String what) {
        out.println((good ? "  ok    " : "  FAIL  ") + what);
        out.flush();
        return good;
    }

    private interface Call {
        /** Returns the bytes the gateway sent back to an HTTP request (none when it refused). */
        byte[] call() throws IOException, GeneralSecurityException;
    }

    private boolean refused(String what, String reason, Call call) {
        try {
            long before = refusals(reason);
            byte[] answer = call.call();
            long after = before;
            for (int i = 0; i < 50 && after == before; i++) {
                Supervisor.sleep(100);
                after = refusals(reason);
            }
            boolean good = answer.length == 0 && after == before + 1;
            return report(good, what + ": " + (answer.length == 0 ? "refused" : "ANSWERED " + answer.length
                    + " bytes") + ", east gateway counted " + (after - before) + " refusal(s) with reason " + reason);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return report(false, what + ": " + e);
        }
    }

    private long refusals(String reason) throws IOException {
        String metrics = get(Layout.EAST.gatewayHttp(), "/metrics");
        Matcher m = REFUSALS.matcher(metrics);
        while (m.find()) {
            if (m.group(1).equals(reason)) {
                return (long) Double.parseDouble(m.group(2));
            }
        }
        throw new IOException("east gateway metrics have no refusal counter for " + reason);
    }

    private byte[] plaintext() throws IOException {
        try (Socket s = connect(Layout.EAST.gateway())) {
            return exchange(s);
        }
    }

    private X509Svid adminSvid() {
        return SvidFiles.read(adminHome.resolve(AdminFiles.CERTIFICATE), adminHome.resolve(AdminFiles.KEY));
    }

    /**
     * mTLS with the admin's SVID. This probe does not check the gateway's certificate: it tests the gateway's
     * decision about us, and sends nothing secret.
     */
    private byte[] asAdmin() throws IOException, GeneralSecurityException {
        X509Svid admin = adminSvid();
        BundleSet bundles = BundleSet.of(BundleFiles.read(adminHome.resolve(AdminFiles.BUNDLE), Optional.empty()));
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(new javax.net.ssl.KeyManager[] {new SpiffeKeyManager(TlsCredentials.of(admin, bundles))},
                new TrustManager[] {new AnyServer()}, null);
        InetSocketAddress gw = Layout.parse(Layout.EAST.gateway());
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(gw.getAddress(), gw.getPort())) {
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(new ServiceSni(Layout.SERVICE_PORT, "hello", Layout.NAMESPACE)
                    .toString())));
            s.setSSLParameters(p);
            s.setSoTimeout(10_000);
            try {
                s.startHandshake();
                return exchange(s);
            } catch (javax.net.ssl.SSLException closedDuringOrAfterHandshake) {
                return new byte[0];
            }
        }
    }

    private static byte[] exchange(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        try {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: hello.demo\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return s.getInputStream().readAllBytes();
        } catch (java.net.SocketException reset) {
            return new byte[0];
        }
    }

    private static Socket connect(String hostPort) throws IOException {
        InetSocketAddress a = Layout.parse(hostPort);
        Socket s = new Socket();
        s.connect(a, 5_000);
        return s;
    }

    /** A plain HTTP/1.1 GET; returns the body of a 200 answer, fails on anything else. */
    static String get(String hostPort, String path) throws IOException {
        try (Socket s = connect(hostPort)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + hostPort
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int split = response.indexOf("\r\n\r\n");
            if (!response.startsWith("HTTP/1.1 200") || split < 0) {
                throw new IOException("unexpected answer: " + (response.isEmpty() ? "connection closed"
                        : response.lines().findFirst().orElse("")));
            }
            return response.substring(split + 4);
        }
    }

    private static final class AnyServer implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            throw new UnsupportedOperationException("client side only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            // The probe tests the server's decision, not the server.
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
