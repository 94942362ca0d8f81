package io.meshfed.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.AdminFiles;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.SvidFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The meshfed CLI, in-process, as the admin of a real controller (a TestFederation): an admin home ({@code
 * MESHFED_HOME}) with the admin SVID, the federation bundle and the controller's address, as {@code meshfed init}
 * writes it.
 */
final class RealControllerCli {
    /** How one command ended: its exit code, standard output and standard error. */
    record Result(int exit, String out, String err) {}

    private final Map<String, String> env;

    private RealControllerCli(Map<String, String> env) {
        this.env = env;
    }

    /** Writes the admin home of {@code federation} into {@code home}. */
    static RealControllerCli adminOf(TestFederation federation, Path home) throws IOException {
        Files.createDirectories(home);
        SvidFiles.write(federation.adminSvid(), home.resolve(AdminFiles.CERTIFICATE), home.resolve(AdminFiles.KEY));
        Files.writeString(home.resolve(AdminFiles.BUNDLE), SpiffeBundleJson.encode(
                federation.identity.bundle(TestFederation.FEDERATION_TD)));
        String address = federation.address().getHostString() + ":" + federation.address().getPort();
        Files.writeString(home.resolve(AdminFiles.CONFIG), "{\"controllerAddress\": \"" + address
                + "\", \"trustDomain\": \"" + TestFederation.FEDERATION_TD + "\"}\n");
        return new RealControllerCli(Map.of(AdminFiles.HOME_VARIABLE, home.toString()));
    }

    Map<String, String> env() {
        return env;
    }

    Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
        return new Result(code, out.toString(), err.toString());
    }

    /** Runs {@code args}; fails the test unless it exits 0 with nothing on standard error. */
    Result ok(String... args) {
        Result r = run(args);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        return r;
    }
}
