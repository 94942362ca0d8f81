package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AbortRotationRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RotateTrustDomainRequest;
import io.meshfed.api.v1.TrustRotation;
import io.meshfed.api.v1.TrustRotationList;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.Durations;
import io.meshfed.cli.render.Table;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshfed trust rotate} and {@code meshfed trust rotation status|abort}. */
public final class RotationCommands {
    private RotationCommands() {}

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = "Rotate a member trust domain's root with no restart and no failed request: the new root"
                    + " is trusted everywhere before it issues, and the old one goes once no SVID of it is in use.")
    public static final class Rotate extends AdminCommand {
        @Parameters(paramLabel = "TRUST-DOMAIN")
        String trustDomain;

        @Option(names = "--to", paramLabel = "BACKEND", defaultValue = "",
                description = "The new CA: builtin, provided (--provided-dir) or vault (--vault-*). Default: a new CA"
                        + " of the current backend (builtin only).")
        String to;

        @Option(names = "--soak", paramLabel = "DURATION", converter = Durations.class,
                description = "Least time each phase lasts, even once its gate is met (e.g. 10m). Default: none.")
        java.time.Duration soak; // null: no soak

        @picocli.CommandLine.Mixin
        CaOptions caOptions = new CaOptions();

        public Rotate(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            RotateTrustDomainRequest.Builder r = RotateTrustDomainRequest.newBuilder().setTrustDomain(trustDomain)
                    .setSoakSeconds(soak == null ? 0 : soak.toSeconds());
            if (!to.isEmpty()) {
                r.setTo(caOptions.choice(to, "--to"));
            } else {
                caOptions.choice("", "--to"); // refuses CA flags without --to
            }
            return admin.rotateTrustDomain(r.build());
        }

        @Override
        String table(MessageOrBuilder response) {
            return RotationCommands.table(List.of((TrustRotation) response));
        }
    }

    @Command(name = "rotation", mixinStandardHelpOptions = true, description = "Root rotations.",
            subcommands = {Status.class, Abort.class})
    public static final class Rotation {
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Each trust domain's rotation: its phase and who holds it up.")
    static final class Status extends AdminCommand {
        Status(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.listRotations(ListRequest.getDefaultInstance());
        }

        @Override
        String table(MessageOrBuilder response) {
            List<TrustRotation> rotations = ((TrustRotationList) response).getRotationsList();
            return rotations.isEmpty() ? "no rotation has run\n" : RotationCommands.table(rotations);
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true,
            description = "Return to the old root safely: at once before the new CA issued, else once no SVID of the"
                    + " new chain is in use.")
    static final class Abort extends AdminCommand {
        @Parameters(paramLabel = "TRUST-DOMAIN", arity = "0..1",
                description = "Needed when more than one rotation is in progress.")
        String trustDomain;

        Abort(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.abortRotation(AbortRotationRequest.newBuilder()
                    .setTrustDomain(trustDomain == null ? "" : trustDomain).build());
        }

        @Override
        String table(MessageOrBuilder response) {
            return RotationCommands.table(List.of((TrustRotation) response));
        }
    }

    static String table(List<TrustRotation> rotations) {
        Table t = new Table("TRUST DOMAIN", "#", "PHASE", "SINCE", "FROM", "TO", "DEADLINE");
        StringBuilder waiting = new StringBuilder();
        for (TrustRotation r : rotations) {
            t.row(r.getTrustDomain(), Long.toString(r.getNumber()), r.getPhase(), AdminCommand.time(r.getPhaseSince()),
                    r.getFromBackend() + " " + shortSha(r.getFromRootSha256()),
                    r.getToBackend() + " " + shortSha(r.getToRootSha256()), AdminCommand.time(r.getDeadline()));
            for (String w : r.getWaitingForList()) {
                waiting.append("  ").append(r.getTrustDomain()).append(" waits: ").append(w).append('\n');
            }
        }
        return t.render() + waiting;
    }

    private static String shortSha(String sha) {
        return sha.length() > 12 ? sha.substring(0, 12) : sha;
    }
}
