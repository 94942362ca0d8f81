package io.meshfed.cli.trust;

import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.trust.ca.BuiltinCertificateAuthority;
import io.meshfed.trust.ca.KeyEncryptionKey;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** Where the key-encryption key of a builtin CA comes from: a file (default DIR/ca.kek) or an environment variable. */
final class KekOptions {
    private final CliContext context;

    @ArgGroup(exclusive = true)
    Source source;

    KekOptions(CliContext context) {
        this.context = context;
    }

    static final class Source {
        @Option(names = "--kek-file", paramLabel = "FILE",
                description = "Key-encryption key file (owner-only). Default: ca.kek in the CA directory.")
        Path file;

        @Option(names = "--kek-env", paramLabel = "VAR",
                description = "Read the key-encryption key from this environment variable instead.")
        String variable;
    }

    /** The key for an existing CA. */
    KeyEncryptionKey load(Path caDir) {
        if (source != null && source.variable != null) {
            return KeyEncryptionKey.fromEnvironment(source.variable, context.environment());
        }
        Path file = file(caDir);
        if (!Files.exists(file)) {
            throw new CliException("key-encryption key file " + file + " does not exist; give the one the CA in "
                    + caDir + " was created with (--kek-file or --kek-env)");
        }
        return KeyEncryptionKey.fromFile(file);
    }

    /** The key for a new CA: the file is created when absent; an environment variable must be set. */
    KeyEncryptionKey loadOrCreate(Path caDir) {
        if (source != null && source.variable != null) {
            return KeyEncryptionKey.fromEnvironment(source.variable, context.environment());
        }
        return KeyEncryptionKey.loadOrCreate(file(caDir));
    }

    private Path file(Path caDir) {
        return source != null && source.file != null ? source.file
                : caDir.resolve(BuiltinCertificateAuthority.DEFAULT_KEK_FILE);
    }
}
