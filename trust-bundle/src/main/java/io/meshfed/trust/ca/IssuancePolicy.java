package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import java.util.Optional;

/**
 * Decides which SPIFFE IDs a requester may get. The controller builds one per request from the joiner's member and
 * role; the CLI allows the ID the operator named. The CA itself always refuses IDs outside its own trust domain.
 */
@FunctionalInterface
public interface IssuancePolicy {
    /** Empty when {@code requested} is allowed; otherwise the reason in words, returned to the requester. */
    Optional<String> refusal(SpiffeId requested);

    /** Any workload ID of the CA's trust domain. */
    static IssuancePolicy anyInTrustDomain() {
        return requested -> Optional.empty();
    }

    /** Only this one ID. */
    static IssuancePolicy exactly(SpiffeId allowed) {
        requireNonNull(allowed, "allowed");
        return requested -> requested.equals(allowed) ? Optional.empty()
                : Optional.of(requested + " is not the allowed ID " + allowed);
    }

    /**
     * IDs whose path is {@code prefix} or lies below it by whole segments: {@code /ns/demo} allows
     * {@code /ns/demo/sa/web} but not {@code /ns/demo2}.
     */
    static IssuancePolicy pathUnder(String prefix) {
        requireNonNull(prefix, "prefix");
        if (!prefix.startsWith("/") || prefix.endsWith("/")) {
            throw new IllegalArgumentException("prefix must start with '/' and not end with '/', got '" + prefix + "'");
        }
        return requested -> {
            String path = requested.path();
            boolean under = path.equals(prefix) || path.startsWith(prefix + "/");
            return under ? Optional.empty() : Optional.of(requested + " is outside " + prefix);
        };
    }
}
