package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.controller.testing.TestFederation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data directory is the controller user's only: created 0700, store files 0600, wider ones tightened at start. */
class DataDirectoryPermissionsTest {
    @TempDir
    Path tmp;

    @Test
    void initAndStartLeaveTheDataDirectoryAndStoreFilesOwnerOnly() throws Exception {
        Path data = tmp.resolve("var/lib/meshfed");
        try (TestFederation federation = TestFederation.start(data)) { // init (FederationIdentity.initialise) + start
            federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            assertThat(mode(data)).isEqualTo("rwx------");
            assertThat(mode(data.resolve("state.db"))).isEqualTo("rw-------");
            assertThat(mode(data.resolve("state.db-wal"))).isEqualTo("rw-------");
            assertThat(mode(data.resolve("state.db-shm"))).isEqualTo("rw-------");
            assertThat(mode(data.resolve("kek"))).isEqualTo("rw-------");
        }
    }

    @Test
    void aWiderDataDirectoryAndStoreAreTightenedAtStart() throws Exception {
        Path data = tmp.resolve("data");
        try (TestFederation federation = TestFederation.start(data)) {
            federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            federation.controller().close();
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(data.resolve("state.db"), PosixFilePermissions.fromString("rw-r--r--"));

            federation.restart();
            federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
            assertThat(mode(data)).isEqualTo("rwx------");
            assertThat(mode(data.resolve("state.db"))).isEqualTo("rw-------");
            assertThat(mode(data.resolve("state.db-wal"))).isEqualTo("rw-------");
            assertThat(mode(data.resolve("state.db-shm"))).isEqualTo("rw-------");
        }
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
