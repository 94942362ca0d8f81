package io.meshfed.controller.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's data is for its own user only: the data directory is created {@code rwx------} and the store's
 * files {@code rw-------}; an existing one that group or others may access is tightened, and the log says so. On a
 * file system without POSIX permissions nothing is changed.
 */
public final class OwnerOnly {
    private static final Logger LOG = LoggerFactory.getLogger(OwnerOnly.class);
    static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private OwnerOnly() {}

    /** Creates {@code dir} (and missing parents) owner-only, or tightens it if it exists. */
    public static void directory(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
        if (!posix(absolute)) {
            Files.createDirectories(absolute);
            return;
        }
        if (!Files.exists(absolute)) {
            Files.createDirectories(absolute, PosixFilePermissions.asFileAttribute(DIRECTORY));
            Files.setPosixFilePermissions(absolute, DIRECTORY); // whatever the umask
            return;
        }
        tighten(absolute, DIRECTORY);
    }

    /** Creates {@code file} empty and owner-only if it does not exist, or tightens it if it does. */
    public static void file(Path file) throws IOException {
        if (!posix(file.toAbsolutePath().getParent())) {
            return;
        }
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(FILE));
            Files.setPosixFilePermissions(file, FILE);
            return;
        }
        tighten(file, FILE);
    }

    /** Tightens {@code file} if it exists. */
    public static void ifExists(Path file) throws IOException {
        if (Files.exists(file) && posix(file.toAbsolutePath().getParent())) {
            tighten(file, FILE);
        }
    }

    private static void tighten(Path path, Set<PosixFilePermission> wanted) throws IOException {
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(path);
        if (!now.equals(wanted)) {
            Files.setPosixFilePermissions(path, wanted);
            LOG.warn("{} was {}; set it to {} (the controller's data is for its own user only)", path,
                    PosixFilePermissions.toString(now), PosixFilePermissions.toString(wanted));
        }
    }

    private static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
