package io.meshfed.cli.context;

/** Exit codes of every meshfed command. */
public final class ExitCodes {
    /** Done, or (for verify) valid. */
    public static final int OK = 0;
    /** The command ran and failed, or (for verify) the input is not valid; one line on stderr says why. */
    public static final int FAILURE = 1;
    /** The command line itself is wrong: unknown option, missing argument. */
    public static final int USAGE = 2;

    private ExitCodes() {}
}
