package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code meshfed quickstart --dir qs} running in the background for a test class (eight processes on the README's
 * fixed addresses), with what its quickstart.json says: the admin home, the entries, the components' pids.
 */
final class RunningQuickstart implements AutoCloseable {
    private final Process process;
    final Path work;
    final String json;
    /** The environment of an admin command: MESHFED_HOME. */
    final Map<String, String> env;

    private RunningQuickstart(Process process, Path work, String json) {
        this.process = process;
        this.work = work;
        this.json = json;
        this.env = Map.of("MESHFED_HOME", field("adminHome"));
    }

    /** Starts it in {@code work} and returns once it printed its addresses (at most 5 minutes). */
    static RunningQuickstart start(Path work) throws IOException {
        Process p = new ProcessBuilder(Processes.root().resolve("meshfed").toString(), "quickstart", "--dir", "qs")
                .directory(work.toFile()).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
            lines.add(line);
            if (line.startsWith("Addresses, SPIFFE IDs and logs:")) {
                break;
            }
        }
        assertThat(lines).as(String.join("\n", lines)).contains("meshfed quickstart is running. Try:");
        Thread drain = new Thread(() -> {
            try {
                out.transferTo(java.io.Writer.nullWriter());
            } catch (IOException ignored) {
                // the quickstart ended
            }
        });
        drain.setDaemon(true);
        drain.start();
        return new RunningQuickstart(p, work, Files.readString(work.resolve("qs/quickstart.json")));
    }

    /** A string field of quickstart.json, e.g. an entry's address. */
    String field(String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\" : \"([^\"]*)\"").matcher(json);
        assertThat(m.find()).as(name + " in " + json).isTrue();
        return m.group(1);
    }

    /** The pid of the first component named {@code component} ("controller", ...). */
    long pid(String component) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(component) + "\" : \\{.*?\"pid\" : (\\d+)", Pattern.DOTALL)
                .matcher(json);
        assertThat(m.find()).as(component + " in " + json).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** {@code meshfed ARGS} as the admin; fails the test unless it exits 0. */
    Processes.Result meshfed(String... args) throws Exception {
        Processes.Result r = meshfedMayFail(args);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    /** {@code meshfed ARGS} as the admin, whatever its exit code. */
    Processes.Result meshfedMayFail(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Processes.root().resolve("meshfed").toString()));
        cmd.addAll(List.of(args));
        return Processes.run(work, java.time.Duration.ofMinutes(2), cmd, env);
    }

    /** SIGTERM, as Ctrl-C: the quickstart stops what it started. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(90, TimeUnit.SECONDS);
    }
}
