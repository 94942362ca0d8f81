package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.DeleteFederationRequest;
import io.meshfed.api.v1.FederateTrustDomainRequest;
import io.meshfed.api.v1.FederationList;
import io.meshfed.api.v1.FederationState;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.ExitCodes;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.render.Table;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshfed trust federate} and {@code meshfed trust federation list|delete}: SPIFFE federation. */
public final class FederationCommands {
    /** The largest --ca-file read. */
    static final int MAX_CA_FILE = 256 * 1024;

    private FederationCommands() {}

    @Command(name = "federate", mixinStandardHelpOptions = true,
            description = "Trust an outside trust domain (a SPIRE server, another mesh) by its SPIFFE bundle endpoint:"
                    + " its bundle is fetched now and at its refresh hint, and its identities can then be named in"
                    + " exports' caller policies (meshfed authz allow … --from spiffe://TD/…); it grants nothing"
                    + " by itself.")
    public static final class Federate extends AdminCommand {
        @Parameters(paramLabel = "TRUST-DOMAIN")
        String trustDomain;

        @Option(names = "--bundle-endpoint", paramLabel = "URL", required = true,
                description = "https URL of its SPIFFE bundle endpoint.")
        String bundleEndpoint;

        @Option(names = "--profile", paramLabel = "PROFILE", required = true,
                description = "https_web (web PKI certificate and host name) or https_spiffe (the endpoint's SVID).")
        String profile;

        @Option(names = "--endpoint-spiffe-id", paramLabel = "ID",
                description = "https_spiffe: the SPIFFE ID the endpoint presents, e.g. spiffe://TD/spire/server.")
        String endpointSpiffeId;

        @Option(names = "--ca-file", paramLabel = "FILE",
                description = "PEM: https_web, the CA(s) that verify the endpoint instead of the JDK's; https_spiffe"
                        + " (required), the endpoint trust domain's roots to start from.")
        Path caFile;

        public Federate(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            FederateTrustDomainRequest.Builder r = FederateTrustDomainRequest.newBuilder().setTrustDomain(trustDomain)
                    .setBundleEndpoint(bundleEndpoint).setProfile(profile);
            if (endpointSpiffeId != null) {
                r.setEndpointSpiffeId(endpointSpiffeId);
            }
            if (caFile != null) {
                r.setCaPem(readCaFile(caFile));
            }
            return admin.federateTrustDomain(r.build());
        }

        @Override
        String table(MessageOrBuilder response) {
            return FederationCommands.table(List.of((FederationState) response));
        }
    }

    static String readCaFile(Path file) {
        try {
            if (Files.size(file) > MAX_CA_FILE) {
                throw new CliException(file + " is over " + MAX_CA_FILE / 1024 + " KiB; a CA file holds a few PEM"
                        + " certificates", ExitCodes.USAGE);
            }
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new CliException("cannot read " + file + ": no such file", ExitCodes.USAGE);
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage(), ExitCodes.USAGE);
        }
    }

    @Command(name = "federation", mixinStandardHelpOptions = true,
            description = "SPIFFE federations with outside trust domains.", subcommands = {ListFederations.class, Delete.class})
    public static final class Federation {
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Each federation: its endpoint, state, the bundle in use and the last error.")
    static final class ListFederations extends AdminCommand {
        ListFederations(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.listFederations(ListRequest.getDefaultInstance());
        }

        @Override
        String table(MessageOrBuilder response) {
            List<FederationState> all = ((FederationList) response).getFederationsList();
            return all.isEmpty() ? "no federation; add one with meshfed trust federate\n" : FederationCommands.table(all);
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "End a federation: its bundle leaves every bundle set.")
    static final class Delete extends AdminCommand {
        @Parameters(paramLabel = "TRUST-DOMAIN")
        String trustDomain;

        Delete(CliContext context) {
            super(context);
        }

        @Override
        MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin) {
            return admin.deleteFederation(DeleteFederationRequest.newBuilder().setTrustDomain(trustDomain).build());
        }

        @Override
        String table(MessageOrBuilder response) {
            return "deleted federation with " + ((FederationState) response).getTrustDomain() + "\n";
        }
    }

    static String table(List<FederationState> federations) {
        Table t = new Table("TRUST DOMAIN", "PROFILE", "ENDPOINT", "STATE", "SEQUENCE", "ROOTS", "LAST SUCCESS",
                "NEXT REFRESH", "LAST ERROR");
        for (FederationState f : federations) {
            t.row(f.getTrustDomain(), f.getProfile(), f.getBundleEndpoint(), f.getState(),
                    f.getSequence() == 0 ? "-" : Long.toString(f.getSequence()), Integer.toString(f.getX509Authorities()),
                    AdminCommand.time(f.getLastSuccess()), AdminCommand.time(f.getNextRefresh()), f.getLastError());
        }
        return t.render();
    }
}
