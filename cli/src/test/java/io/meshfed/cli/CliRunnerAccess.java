package io.meshfed.cli;

/** {@link CliRunner} for tests in sub-packages. */
public final class CliRunnerAccess {
    public record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private CliRunnerAccess() {}

    public static Result run(String... args) {
        CliRunner.Result r = CliRunner.run(args);
        return new Result(r.exitCode(), r.out(), r.err());
    }
}
