package io.meshfed.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ServiceSniTest {
    @Test
    void buildsTheServerNameGatewaysRouteBy() {
        assertThat(new ServiceSni(8080, "hello", "demo")).hasToString("8080.hello.demo.svc.meshfed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"8080.hello.demo.svc.meshfed", "1.a.b.svc.meshfed", "65535.echo-2.team-a.svc.meshfed",
        "15022.mgmt.default.svc.meshfed"})
    void parseAndToStringRoundTrip(String text) {
        ServiceSni sni = ServiceSni.parse(text);
        assertThat(sni).hasToString(text);
        assertThat(ServiceSni.parse(sni.toString())).isEqualTo(sni);
        assertThat(ServiceSni.tryParse(text)).contains(sni);
    }

    @Test
    void partsAreReadBack() {
        assertThat(ServiceSni.parse("8443.api.payments.svc.meshfed"))
                .isEqualTo(new ServiceSni(8443, "api", "payments"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "8080.hello.demo.svc.cluster.local | SNI '8080.hello.demo.svc.cluster.local' does not end in .svc.meshfed",
        "8080.hello.demo                   | SNI '8080.hello.demo' does not end in .svc.meshfed",
        "8080.hello.demo.SVC.MESHFED       | SNI '8080.hello.demo.SVC.MESHFED' does not end in .svc.meshfed",
        "8080.hello.svc.meshfed            | SNI '8080.hello.svc.meshfed' must be PORT.NAME.NAMESPACE.svc.meshfed"
                + " (three parts before .svc.meshfed, not 2)",
        "8080.hello.demo.x.svc.meshfed     | SNI '8080.hello.demo.x.svc.meshfed' must be"
                + " PORT.NAME.NAMESPACE.svc.meshfed (three parts before .svc.meshfed, not 4)",
        "0.hello.demo.svc.meshfed          | SNI '0.hello.demo.svc.meshfed': port '0' must be a number from 1 to 65535",
        "70000.hello.demo.svc.meshfed      | SNI '70000.hello.demo.svc.meshfed': port '70000' must be a number from 1"
                + " to 65535",
        "123456.hello.demo.svc.meshfed     | SNI '123456.hello.demo.svc.meshfed': port '123456' must be a number"
                + " from 1 to 65535",
        "08080.hello.demo.svc.meshfed      | SNI '08080.hello.demo.svc.meshfed': port '08080' must be a number"
                + " from 1 to 65535",
        "+80.hello.demo.svc.meshfed        | SNI '+80.hello.demo.svc.meshfed': port '+80' must be a number from 1"
                + " to 65535",
        "http.hello.demo.svc.meshfed       | SNI 'http.hello.demo.svc.meshfed': port 'http' must be a number from 1"
                + " to 65535",
        "8080.Hello.demo.svc.meshfed       | SNI '8080.Hello.demo.svc.meshfed': service name 'Hello' must be a DNS"
                + " label",
        "8080..demo.svc.meshfed            | SNI '8080..demo.svc.meshfed': service name '' must be a DNS label",
        "8080.hello.demo_1.svc.meshfed     | SNI '8080.hello.demo_1.svc.meshfed': namespace 'demo_1' must be a DNS"
                + " label",
        "8080.hello.-demo.svc.meshfed      | SNI '8080.hello.-demo.svc.meshfed': namespace '-demo' must be a DNS label",
    })
    void refusalsNameWhatIsWrong(String text, String message) {
        assertThatThrownBy(() -> ServiceSni.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(message);
        assertThat(ServiceSni.tryParse(text)).isEmpty();
    }

    @Test
    void nullIsRefused() {
        assertThatThrownBy(() -> ServiceSni.parse(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("SNI 'null' does not end in .svc.meshfed");
        assertThat(ServiceSni.tryParse(null)).isEmpty();
    }

    @Test
    void anInvalidSniCannotBeBuilt() {
        assertThatThrownBy(() -> new ServiceSni(0, "hello", "demo")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port '0' must be a number from 1 to 65535");
        assertThatThrownBy(() -> new ServiceSni(65536, "hello", "demo"))
                .hasMessage("port '65536' must be a number from 1 to 65535");
        assertThatThrownBy(() -> new ServiceSni(80, "hello.demo", "x"))
                .hasMessageStartingWith("service name 'hello.demo' must be a DNS label");
        assertThatThrownBy(() -> new ServiceSni(80, "hello", "Demo"))
                .hasMessageStartingWith("namespace 'Demo' must be a DNS label");
    }
}
