package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshfed.api.ServiceSni;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * The SNI of every inbound mTLS connection is chosen by the client ({@link ServiceSni}, which the inbound listener
 * parses). Any name parses to a service port or to empty,
 * never throws, within 1 s; a parsed SNI prints back to exactly the name it came from.
 */
class SniFuzzTest {
    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void parse(byte[] input) {
        String name = new String(input, StandardCharsets.UTF_8);
        Optional<ServiceSni> sni = ServiceSni.tryParse(name);
        sni.ifPresent(s -> {
            assertThat(s.toString()).isEqualTo(name);
            assertThat(s.port()).isBetween(1, 65535);
            assertThat(ServiceSni.tryParse(s.toString())).contains(s);
        });
    }
}
