package io.meshfed.controller.join;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;

/** Why a join or renewal was refused: a stable reason (metrics, audit log) and the message for the joiner. */
public final class JoinRefusal extends Exception {
    private static final long serialVersionUID = 1L;

    /** Reasons, each with the gRPC status the joiner receives. */
    public enum Reason {
        MALFORMED_TOKEN(Status.Code.INVALID_ARGUMENT),
        INVALID_TOKEN(Status.Code.PERMISSION_DENIED),
        TOKEN_USED(Status.Code.PERMISSION_DENIED),
        TOKEN_EXPIRED(Status.Code.PERMISSION_DENIED),
        WRONG_ROLE(Status.Code.PERMISSION_DENIED),
        WRONG_MEMBER(Status.Code.PERMISSION_DENIED),
        WRONG_NAMESPACE(Status.Code.PERMISSION_DENIED),
        UNKNOWN_MEMBER(Status.Code.FAILED_PRECONDITION),
        BAD_NAME(Status.Code.INVALID_ARGUMENT),
        CSR_REFUSED(Status.Code.INVALID_ARGUMENT),
        NOT_A_MEMBER(Status.Code.PERMISSION_DENIED),
        NOT_JOINED(Status.Code.PERMISSION_DENIED),
        REVOKED(Status.Code.PERMISSION_DENIED),
        ADDRESS_REFUSED(Status.Code.PERMISSION_DENIED),
        ALREADY_JOINED(Status.Code.ALREADY_EXISTS);

        private final Status.Code code;

        Reason(Status.Code code) {
            this.code = code;
        }

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Reason reason;

    public JoinRefusal(Reason reason, String message) {
        super(message);
        this.reason = requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }

    public io.grpc.StatusRuntimeException toStatus() {
        return Status.fromCode(reason.code).withDescription(reason.label() + ": " + getMessage()).asRuntimeException();
    }
}
