package io.meshfed.cli.admin;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.meshfed.api.AdminFiles;
import io.meshfed.api.v1.AdminConfig;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.cli.context.CliException;
import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SvidFiles;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * A connection to the controller's admin API with the credentials {@code meshfed init} wrote to
 * {@code $MESHFED_HOME} (default {@code ~/.meshfed}): mutual TLS, and the controller must prove it is
 * {@code spiffe://<federation>/meshfed/controller}.
 */
public final class AdminClient implements AutoCloseable {
    private final ManagedChannel channel;

    private AdminClient(ManagedChannel channel) {
        this.channel = channel;
    }

    public static AdminClient connect(Map<String, String> environment) {
        return connect(environment, Clock.systemUTC());
    }

    /** As {@link #connect(Map)}, checking the controller's certificate against {@code clock}. */
    public static AdminClient connect(Map<String, String> environment, Clock clock) {
        Path home = AdminFiles.home(environment);
        Path configFile = home.resolve(AdminFiles.CONFIG);
        if (!Files.exists(configFile)) {
            throw new CliException("no admin credentials in " + home + "; run 'meshfed init --controller HOST:PORT"
                    + " --data-dir DIR' on the controller's host first (or set MESHFED_HOME)");
        }
        AdminConfig config;
        try {
            AdminConfig.Builder b = AdminConfig.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(configFile), b);
            config = b.build();
        } catch (IOException e) {
            throw new CliException("cannot read " + configFile + ": " + e.getMessage(), e);
        }
        TrustDomain td = TrustDomain.parse(config.getTrustDomain());
        X509Svid admin = SvidFiles.read(home.resolve(AdminFiles.CERTIFICATE), home.resolve(AdminFiles.KEY));
        TrustBundle bundle = BundleFiles.read(home.resolve(AdminFiles.BUNDLE), Optional.of(td));
        TlsCredentials credentials = TlsCredentials.of(admin, BundleSet.of(bundle));
        SpiffeTrustManager trust = new SpiffeTrustManager(credentials,
                PeerAuthorizer.ids(Set.of(MeshfedIds.controller(td))), clock);
        TlsProvider provider = TlsProvider.preferred();
        String address = config.getControllerAddress();
        io.meshfed.api.ControllerAddresses targets;
        try {
            targets = io.meshfed.api.ControllerAddresses.parse(address);
        } catch (IllegalArgumentException e) {
            throw new CliException("controllerAddress '" + address + "' in " + configFile + ": " + e.getMessage());
        }
        try {
            // Several replicas (comma-separated): any of them answers, another one when it is gone.
            @SuppressWarnings("deprecation")
            ManagedChannel channel = NettyChannelBuilder.forTarget(targets.target()).nameResolverFactory(targets)
                    .sslContext(GrpcSslContexts.configure(SpiffeTls.nettyClientBuilder(provider, trust,
                            new SpiffeKeyManager(credentials)), provider.netty()).build())
                    .build();
            return new AdminClient(channel);
        } catch (SSLException | RuntimeException e) {
            throw new CliException("cannot set up TLS to the controller at " + address + ": " + e.getMessage(), e);
        }
    }

    public AdminServiceGrpc.AdminServiceBlockingStub stub() {
        return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** One line for a failed call: the controller's own description, or what went wrong reaching it. */
    public static String describe(StatusRuntimeException e) {
        Status s = e.getStatus();
        if (s.getCode() == Status.Code.UNAVAILABLE) {
            Throwable cause = s.getCause();
            String why = cause != null && cause.getMessage() != null ? cause.getMessage()
                    : s.getDescription() == null ? "unavailable" : s.getDescription();
            return "cannot reach the controller: " + why + " (is it running, and is the address in config.json right?)";
        }
        if (s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            return "the controller did not answer within 30s";
        }
        return s.getDescription() == null ? s.getCode().name() : s.getDescription();
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
