package io.meshfed.gateway;

import static java.util.Objects.requireNonNull;

import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.api.v1.ReadinessReport;
import io.meshfed.api.v1.ReportAck;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the controller the gateway is ready, with the address it bound and its tunnel listener's, once it has
 * config; that is how other networks learn where to dial it. The call is asynchronous, so the config applier (and the ACK behind it) never
 * waits for it: each attempt has its own deadline, and a failed one is retried (1 s doubling to 30 s) until one
 * succeeds. State is confined to the config applier's serial executor.
 */
final class ReadinessReporter {
    private static final Logger LOG = LoggerFactory.getLogger(ReadinessReporter.class);
    static final Duration DEADLINE = Duration.ofSeconds(10);
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    static final Duration MAX_RETRY = Duration.ofSeconds(30);

    private final Channel channel;
    private final SerialExecutor executor;
    private final String address;
    private final String tunnelAddress;
    // Confined to `executor`.
    private boolean reported;
    private boolean inFlight;
    private boolean stopped;
    private SerialExecutor.Scheduled retry;
    private Duration backoff = FIRST_RETRY;

    ReadinessReporter(Channel channel, SerialExecutor executor, String address) {
        this(channel, executor, address, "");
    }

    /** {@code tunnelAddress}: host:port of the tunnel listener, empty when the gateway has none. */
    ReadinessReporter(Channel channel, SerialExecutor executor, String address, String tunnelAddress) {
        this.channel = requireNonNull(channel, "channel");
        this.executor = requireNonNull(executor, "executor");
        this.address = requireNonNull(address, "address");
        this.tunnelAddress = requireNonNull(tunnelAddress, "tunnelAddress");
    }

    /** A snapshot was applied: the first time, the report starts; it never blocks. */
    void configApplied() {
        executor.checkInContext();
        if (!reported && !inFlight && retry == null && !stopped) {
            send();
        }
    }

    private void send() {
        executor.checkInContext();
        inFlight = true;
        RegistrationServiceGrpc.newStub(channel).withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .reportReadiness(report(true), new StreamObserver<>() {
                    @Override
                    public void onNext(ReportAck value) {
                    }

                    @Override
                    public void onError(Throwable t) {
                        executor.executeIfRunning(() -> failed(t));
                    }

                    @Override
                    public void onCompleted() {
                        executor.executeIfRunning(ReadinessReporter.this::succeeded);
                    }
                });
    }

    private void succeeded() {
        executor.checkInContext();
        inFlight = false;
        reported = true;
        LOG.info("reported ready to the controller with address {}{}", address,
                tunnelAddress.isEmpty() ? "" : " and tunnel " + tunnelAddress);
    }

    private void failed(Throwable t) {
        executor.checkInContext();
        inFlight = false;
        if (stopped) {
            return;
        }
        LOG.warn("cannot report readiness to the controller yet ({}); retrying in {} s", t.toString(),
                backoff.toSeconds());
        retry = executor.schedule(() -> {
            retry = null;
            if (!stopped) {
                send();
            }
        }, backoff);
        backoff = backoff.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : backoff.multipliedBy(2);
    }

    /**
     * At shutdown: stops reporting ready and tells the controller the gateway is not ready, waiting up to the
     * deadline (so other networks stop sending new connections before it drains).
     */
    void reportNotReady() {
        executor.submit(() -> {
            stopped = true;
            if (retry != null) {
                retry.cancel();
                retry = null;
            }
            return null;
        }).join();
        try {
            RegistrationServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS).reportReadiness(report(false));
        } catch (RuntimeException e) {
            LOG.warn("cannot report not ready to the controller: {}", e.toString());
        }
    }

    /** Whether the controller has taken the report (read on the executor). */
    boolean reported() {
        return executor.submit(() -> reported).join();
    }

    private ReadinessReport report(boolean ready) {
        return ReadinessReport.newBuilder().setReady(ready).addAddresses(address).setTunnelAddress(tunnelAddress)
                .build();
    }
}
