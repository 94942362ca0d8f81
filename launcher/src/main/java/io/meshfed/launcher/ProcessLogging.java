package io.meshfed.launcher;

/**
 * The slf4j-simple settings every launcher starts with, set as system properties before the first logger exists:
 * timestamps on, and gRPC's and Netty's chatter (plus any other library named) at warn only.
 */
public final class ProcessLogging {
    static final String PREFIX = "org.slf4j.simpleLogger.";

    private ProcessLogging() {}

    /** Applies the defaults; {@code quietLoggers} are further logger names (packages) to keep at warn. */
    public static void configure(String... quietLoggers) {
        System.setProperty(PREFIX + "showDateTime", "true");
        quiet("io.grpc");
        quiet("io.netty");
        for (String logger : quietLoggers) {
            quiet(logger);
        }
    }

    private static void quiet(String logger) {
        System.setProperty(PREFIX + "log." + logger, "warn");
    }
}
