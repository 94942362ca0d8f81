package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ProxyOptionsTest {
    private static ProxySettings parse(String... args) {
        ProxyOptions options = new ProxyOptions();
        new CommandLine(options).parseArgs(args);
        return options.settings();
    }

    @Test
    void defaultsAndFlagsBecomeSettings() {
        assertThat(parse()).isEqualTo(ProxySettings.defaults());
        ProxySettings s = parse("--balancing", "round-robin", "--connect-timeout", "500ms", "--idle-timeout", "5m",
                "--drain-timeout", "2s");
        assertThat(s.balancing()).isEqualTo(Balancing.ROUND_ROBIN);
        assertThat(s.connectTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(s.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.drainTimeout()).isEqualTo(Duration.ofSeconds(2));
        ProxySettings t = parse("--tunnel-pool-size", "2", "--tunnel-max-streams", "64");
        assertThat(t.tunnel()).isEqualTo(TunnelSettings.defaults().withPoolSize(2).withMaxConcurrentStreams(64));
    }

    @Test
    void aBadValueNamesItsFlag() {
        assertThatThrownBy(() -> parse("--idle-timeout", "soon")).hasMessageStartingWith("--idle-timeout: invalid"
                + " duration 'soon'");
        assertThatThrownBy(() -> parse("--balancing", "random")).hasMessage("--balancing: 'random' is not a"
                + " balancing policy: use round-robin or least-connections");
        assertThatThrownBy(() -> parse("--tunnel-pool-size", "0")).hasMessage("--tunnel-pool-size: tunnel pool size"
                + " must be at least 1, not 0");
        assertThatThrownBy(() -> parse("--tunnel-max-streams", "0")).hasMessage("--tunnel-max-streams: maximum"
                + " concurrent streams must be at least 1, not 0");
    }
}
