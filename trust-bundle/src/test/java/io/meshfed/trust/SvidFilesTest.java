package io.meshfed.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.trust.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SvidFilesTest {
    @TempDir
    Path dir;

    private final TestPki pki = TestPki.create("east.acme.mesh", Instant.now());

    @Test
    void writeThenReadGivesTheSameSvidWithAnOwnerOnlyKey() throws Exception {
        X509Svid svid = pki.svid("/ns/demo/sa/hello");
        SvidFiles.write(svid, dir.resolve("svid.crt.pem"), dir.resolve("svid.key.pem"));
        X509Svid back = SvidFiles.read(dir.resolve("svid.crt.pem"), dir.resolve("svid.key.pem"));
        assertThat(back.id()).isEqualTo(svid.id());
        assertThat(back.chain()).isEqualTo(svid.chain());
        assertThat(back.privateKey().getEncoded()).isEqualTo(svid.privateKey().getEncoded());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("svid.key.pem"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("svid.crt.pem"))))
                .isEqualTo("rw-r--r--");
        try (var files = Files.list(dir)) {
            assertThat(files).as("no temporary files left behind").hasSize(2);
        }
    }

    @Test
    void keyOfAnotherSvidIsRefused() throws Exception {
        SvidFiles.write(pki.svid("/a"), dir.resolve("a.crt.pem"), dir.resolve("a.key.pem"));
        SvidFiles.write(pki.svid("/b"), dir.resolve("b.crt.pem"), dir.resolve("b.key.pem"));
        assertThatThrownBy(() -> SvidFiles.read(dir.resolve("a.crt.pem"), dir.resolve("b.key.pem")))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("private key does not belong");
    }

    @Test
    void truncatedChainFileIsAClearError() throws Exception {
        SvidFiles.write(pki.svid("/a"), dir.resolve("a.crt.pem"), dir.resolve("a.key.pem"));
        String pem = Files.readString(dir.resolve("a.crt.pem"));
        Files.writeString(dir.resolve("a.crt.pem"), pem.substring(0, pem.length() / 3));
        assertThatThrownBy(() -> SvidFiles.readChain(dir.resolve("a.crt.pem")))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("a.crt.pem");
    }
}
