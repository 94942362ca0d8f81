package io.meshfed.client;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.JoinRequest;
import io.meshfed.api.v1.JoinResponse;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.Role;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.tls.PinnedRootTrustManager;
import java.io.IOException;
import java.security.KeyPair;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Joins the federation once: the key is made here and stays here; the controller is authenticated by the root pin
 * in the token before the token is sent; the SVID, bundles and controller record go to the state directory.
 */
public final class Joiner {
    /** Who the node is. */
    public record Identity(Role role, String member, String name, String namespace, List<String> advertisedAddresses) {
        public Identity {
            requireNonNull(role, "role");
            requireNonNull(member, "member");
            requireNonNull(name, "name");
            namespace = namespace == null ? "" : namespace;
            advertisedAddresses = advertisedAddresses == null ? List.of() : List.copyOf(advertisedAddresses);
        }
    }

    /** A join that did not happen; the message says why, in the controller's words where it answered. */
    public static final class JoinFailedException extends Exception {
        private static final long serialVersionUID = 1L;

        JoinFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private Joiner() {}

    /** The controller's own words, or the innermost certificate problem (a wrong pin), or the transport's. */
    static String reason(StatusRuntimeException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof java.security.cert.CertificateException && c.getMessage() != null) {
                return "the controller at the given address was not trusted: " + c.getMessage();
            }
        }
        if (e.getStatus().getDescription() != null && e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE) {
            return e.getStatus().getDescription();
        }
        Throwable cause = e.getCause();
        return "cannot reach the controller (" + (cause != null && cause.getMessage() != null ? cause.getMessage()
                : e.getStatus().getCode().name()) + ")";
    }

    public static SpiffeId join(String controllerAddress, String token, Identity who, StateDir state, Clock clock)
            throws JoinFailedException {
        String pin = token.substring(token.lastIndexOf('.') + 1);
        PinnedRootTrustManager trust = new PinnedRootTrustManager(pin, MeshfedIds.CONTROLLER_PATH, clock);
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        ManagedChannel channel = null;
        try {
            channel = ControllerChannels.forJoin(controllerAddress, trust);
            // The CSR names no ID: the controller decides it from the token's member and the role and name.
            JoinResponse response = JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .join(JoinRequest.newBuilder().setToken(token).setRole(who.role()).setMember(who.member())
                            .setName(who.name()).setNamespace(who.namespace())
                            .addAllAdvertisedAddresses(who.advertisedAddresses())
                            .setCsr(ByteString.copyFrom(CertificateSigningRequests.createWithoutId(keys).getEncoded()))
                            .build());
            TrustBundle federation = trust.verifiedBundle().orElseThrow();
            state.saveJoin(response, keys.getPrivate(), federation.trustDomain());
            return SpiffeId.parse(response.getSpiffeId());
        } catch (StatusRuntimeException e) {
            throw new JoinFailedException("join refused or failed: " + reason(e), e);
        } catch (IOException e) {
            throw new JoinFailedException("cannot write the state directory " + state.path() + ": " + e.getMessage(), e);
        } finally {
            if (channel != null) {
                channel.shutdownNow();
            }
        }
    }
}
