package io.meshfed.cli.admin;

import com.google.protobuf.MessageOrBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.ExitCodes;
import io.meshfed.cli.render.ProtoJson;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Option;

/** A command that calls the admin API and prints a table (default) or the response as JSON ({@code -o json}). */
abstract class AdminCommand implements Callable<Integer> {
    private final CliContext context;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table (default) or json.")
    String output;

    AdminCommand(CliContext context) {
        this.context = context;
    }

    /** Calls the API; returns the response to print. */
    abstract MessageOrBuilder call(AdminServiceGrpc.AdminServiceBlockingStub admin);

    /** The table form of the response. */
    abstract String table(MessageOrBuilder response);

    @Override
    public final Integer call() {
        if (!output.equals("table") && !output.equals("json")) {
            throw new CliException("unknown output format '" + output + "'; use table or json", ExitCodes.USAGE);
        }
        MessageOrBuilder response;
        try (AdminClient client = AdminClient.connect(context.environment(), context.clock())) {
            response = call(client.stub());
        }
        PrintWriter out = context.out();
        out.print(output.equals("json") ? ProtoJson.print(response) + "\n" : table(response));
        out.flush();
        return ExitCodes.OK;
    }

    /** SERVICE.NAMESPACE, or SERVICE for the namespace "default". */
    static String[] serviceAndNamespace(String text) {
        int dot = text.indexOf('.');
        if (dot < 0) {
            return new String[] {text, "default"};
        }
        if (dot == 0 || dot == text.length() - 1 || text.indexOf('.', dot + 1) >= 0) {
            throw new CliException("'" + text + "' is not SERVICE.NAMESPACE (e.g. hello.demo)", ExitCodes.USAGE);
        }
        return new String[] {text.substring(0, dot), text.substring(dot + 1)};
    }

    static String time(com.google.protobuf.Timestamp t) {
        return t.getSeconds() == 0 ? "-" : java.time.Instant.ofEpochSecond(t.getSeconds()).toString();
    }
}
