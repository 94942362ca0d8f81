package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class GatewayMainTest {
    private final InetSocketAddress listen = new InetSocketAddress("127.0.1.1", 15443);

    @Test
    void theTunnelListensOnTheListenHostAtPort15008UnlessToldOtherwise() {
        assertThat(GatewayMain.tunnelListen(null, listen)).isEqualTo(new InetSocketAddress("127.0.1.1", 15008));
        assertThat(GatewayMain.tunnelListen("127.0.1.9:16008", listen))
                .isEqualTo(new InetSocketAddress("127.0.1.9", 16008));
        assertThat(GatewayMain.tunnelListen("none", listen)).isNull();
    }

    @Test
    void aBadTunnelAddressNamesItsFlag() {
        assertThatThrownBy(() -> GatewayMain.tunnelListen("15008", listen))
                .hasMessageStartingWith("--tunnel-listen '15008' must be HOST:PORT");
    }

    @Test
    void theAdvertisedTunnelIsOnTheAdvertisedHostAtTheBoundPort() {
        InetSocketAddress bound = new InetSocketAddress("0.0.0.0", 15008);
        assertThat(GatewayNode.advertisedTunnel("gw.east.example:443", bound)).isEqualTo("gw.east.example:15008");
        assertThat(GatewayNode.advertisedTunnel(null, new InetSocketAddress("127.0.1.1", 40123)))
                .isEqualTo("127.0.1.1:40123");
    }
}
