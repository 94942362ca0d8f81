package io.meshfed.trust.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SealedSecretsTest {
    private final SealedSecrets secrets = new SealedSecrets(KeyEncryptionKey.of("0123456789abcdef-kek".toCharArray(),
            "test key"));

    @Test
    void sealsAndOpensWithoutThePlaintextShowing() {
        String sealed = secrets.seal("token: s3cr3t", "kubeconfig of east");

        assertThat(sealed).startsWith("v1:").doesNotContain("s3cr3t");
        assertThat(secrets.open(sealed, "kubeconfig of east")).isEqualTo("token: s3cr3t");
        assertThat(secrets.seal("token: s3cr3t", "kubeconfig of east")).as("fresh salt and nonce").isNotEqualTo(sealed);
    }

    @Test
    void anotherKeyPurposeOrAlterationDoesNotOpen() {
        String sealed = secrets.seal("token: s3cr3t", "kubeconfig of east");
        SealedSecrets other = new SealedSecrets(KeyEncryptionKey.of("another-key-0123456".toCharArray(), "other key"));

        assertThatThrownBy(() -> other.open(sealed, "kubeconfig of east")).isInstanceOf(CaException.class)
                .hasMessageContaining("does not open with other key");
        assertThatThrownBy(() -> secrets.open(sealed, "kubeconfig of west")).isInstanceOf(CaException.class);
        char[] chars = sealed.toCharArray();
        chars[10] = chars[10] == 'A' ? 'B' : 'A';
        assertThatThrownBy(() -> secrets.open(new String(chars), "kubeconfig of east")).isInstanceOf(CaException.class);
        assertThatThrownBy(() -> secrets.open("plain", "kubeconfig of east")).hasMessageContaining("must start with v1:");
        assertThatThrownBy(() -> secrets.open("v1:AAAA", "kubeconfig of east")).hasMessageContaining("truncated");
    }
}
