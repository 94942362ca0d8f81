package io.meshfed.e2e;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Plain HTTP/1.1 GETs as a test client makes them: one new connection per request, the body of a 200 answer. */
final class PlainHttp {
    private PlainHttp() {}

    /** A GET on a new connection to {@code target} ("host:port" or "host:port/path"); the body of a 200, else throws. */
    static String get(String target) throws IOException {
        int slash = target.indexOf('/');
        String hostPort = slash < 0 ? target : target.substring(0, slash);
        String path = slash < 0 ? "/" : target.substring(slash);
        int colon = hostPort.lastIndexOf(':');
        try (Socket s = new Socket(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)))) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: hello.demo\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int split = response.indexOf("\r\n\r\n");
            if (!response.startsWith("HTTP/1.1 200") || split < 0) {
                throw new IOException("unexpected answer: '" + response + "'");
            }
            String body = response.substring(split + 4);
            if (response.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
                body = unchunk(body);
            }
            return body;
        }
    }

    private static String unchunk(String chunked) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < chunked.length()) {
            int eol = chunked.indexOf("\r\n", i);
            int size = Integer.parseInt(chunked.substring(i, eol).trim(), 16);
            if (size == 0) {
                break;
            }
            sb.append(chunked, eol + 2, eol + 2 + size);
            i = eol + 2 + size + 2;
        }
        return sb.toString();
    }
}
