package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshfed.api.ServiceAuthority;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * The {@code :authority} of every tunnel stream is chosen by the client ({@link ServiceAuthority}, which the tunnel
 * listener parses). Any text parses to a service port or to empty, never throws, within 1 s; a parsed authority
 * prints back to exactly the text it came from and names the same service port as its SNI.
 */
class AuthorityFuzzTest {
    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        Optional<ServiceAuthority> authority = ServiceAuthority.tryParse(text);
        authority.ifPresent(a -> {
            assertThat(a.toString()).isEqualTo(text);
            assertThat(a.port()).isBetween(1, 65535);
            assertThat(ServiceAuthority.tryParse(a.toString())).contains(a);
            assertThat(ServiceAuthority.of(a.sni())).isEqualTo(a);
        });
    }
}
