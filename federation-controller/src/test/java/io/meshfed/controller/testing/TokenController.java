package io.meshfed.controller.testing;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What kube-controller-manager's token controller does and the mock API server does not: fills in the token
 * (and ca.crt) of each Secret of type kubernetes.io/service-account-token, a moment after it is created.
 */
public final class TokenController implements AutoCloseable {
    private final Thread thread;
    private final AtomicInteger issued = new AtomicInteger();
    private volatile boolean running = true;

    public TokenController(KubernetesClient client) {
        thread = new Thread(() -> {
            while (running) {
                try {
                    for (Secret s : client.secrets().inAnyNamespace().list().getItems()) {
                        if ("kubernetes.io/service-account-token".equals(s.getType())
                                && (s.getData() == null || !s.getData().containsKey("token"))) {
                            s.setData(Map.of("token", b64("sa-token-" + issued.incrementAndGet()),
                                    "ca.crt", b64("-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n")));
                            client.resource(s).update();
                        }
                    }
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the API server may be gone at the end of a test
                }
            }
        }, "token-controller");
        thread.setDaemon(true);
        thread.start();
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(2000);
    }
}
