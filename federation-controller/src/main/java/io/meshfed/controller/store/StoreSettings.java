package io.meshfed.controller.store;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the controller keeps its state, and where the database password comes from: never from the location itself
 * or a command-line value, only from a file or the environment, and never printed ({@link #toString()} says only
 * where it comes from).
 */
public record StoreSettings(String location, Password password) {
    public StoreSettings {
        requireNonNull(location, "location");
        requireNonNull(password, "password");
    }

    /** The embedded default: the SQLite file {@code state.db} in the data directory. */
    public static StoreSettings inDataDirectory(Path dataDir) {
        return new StoreSettings("sqlite:" + dataDir.resolve("state.db"), Password.NONE);
    }

    /** A database password's source. */
    public sealed interface Password {
        Password NONE = new None();

        /** The password, or null when none is given. */
        String read();

        /** Where it comes from, for messages: never the password. */
        String source();

        default boolean given() {
            return !(this instanceof None);
        }

        static Password fromFile(Path file) {
            return new FromFile(file);
        }

        static Password fromEnvironment(String variable, String value) {
            return new FromEnvironment(variable, value);
        }
    }

    /** No password: a database that trusts the host or takes a client certificate. */
    record None() implements Password {
        @Override
        public String read() {
            return null;
        }

        @Override
        public String source() {
            return "none";
        }
    }

    /**
     * The first line of a file (a trailing newline is not part of it), read when the store is opened; the file must
     * be its owner's only, like every secret file meshfed reads.
     */
    record FromFile(Path file) implements Password {
        public FromFile {
            requireNonNull(file, "file");
        }

        @Override
        public String read() {
            try {
                if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                    var mode = Files.getPosixFilePermissions(file);
                    if (mode.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                        throw new StoreException("the store password file " + file + " is accessible by group or"
                                + " others (" + java.nio.file.attribute.PosixFilePermissions.toString(mode)
                                + "); restrict it with: chmod 600 " + file, null);
                    }
                }
                String text = Files.readString(file, StandardCharsets.UTF_8);
                int end = text.indexOf('\n');
                String line = (end < 0 ? text : text.substring(0, end)).replace("\r", "");
                if (line.isEmpty()) {
                    throw new StoreException("the store password file " + file + " is empty", null);
                }
                return line;
            } catch (IOException e) {
                throw new StoreException("cannot read the store password file " + file + ": " + e, e);
            }
        }

        @Override
        public String source() {
            return "file " + file;
        }
    }

    /** An environment variable's value, held but never shown. */
    static final class FromEnvironment implements Password {
        private final String variable;
        private final String value;

        FromEnvironment(String variable, String value) {
            this.variable = requireNonNull(variable, "variable");
            this.value = requireNonNull(value, "value");
        }

        @Override
        public String read() {
            return value;
        }

        @Override
        public String source() {
            return "environment variable " + variable;
        }

        @Override
        public String toString() {
            return "FromEnvironment[" + variable + "]";
        }
    }

    @Override
    public String toString() {
        return "StoreSettings[location=" + location + ", password=" + password.source() + "]";
    }
}
