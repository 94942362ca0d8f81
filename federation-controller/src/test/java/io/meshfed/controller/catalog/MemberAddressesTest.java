package io.meshfed.controller.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.WorkloadSetRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The addresses a member may report, from its CIDRs. */
class MemberAddressesTest {
    private static MemberAddresses member(String... cidrs) {
        return MemberAddresses.of(new MemberRecord("west-b", "vm", "west", "west-b.acme.mesh", List.of(),
                List.of(cidrs)));
    }

    @Test
    void aMemberWithoutCidrsMayReportAnyAddress() {
        MemberAddresses any = member();
        assertThat(any.allows("10.0.0.1:15443")).isTrue();
        assertThat(any.allows("gw.example.com:15443")).isTrue();
        assertThat(any.allows("[fd00::1]:15443")).isTrue();
        assertThat(any.refusal("no-port")).hasValue("address 'no-port' must be HOST:PORT with a port 0-65535");
    }

    @Test
    void ipv4AddressesMustBeInsideOneOfTheCidrs() {
        MemberAddresses m = member("10.2.0.0/16", "192.168.7.128/25");
        assertThat(m.allows("10.2.0.0:1")).isTrue();
        assertThat(m.allows("10.2.255.255:15443")).isTrue();
        assertThat(m.allows("192.168.7.200:15443")).isTrue();
        assertThat(m.allows("192.168.7.127:15443")).as("just below the /25").isFalse();
        assertThat(m.allows("10.3.0.1:15443")).isFalse();
        assertThat(m.refusal("10.3.0.1:15443")).hasValue("address '10.3.0.1:15443' is outside member west-b's CIDRs"
                + " [10.2.0.0/16, 192.168.7.128/25]; report an address inside them, or add its range with meshfed"
                + " member add west-b --cidr CIDR");
        assertThat(m.allows("[::ffff:10.2.3.4]:15443")).as("IPv4-mapped IPv6 is the IPv4 address").isTrue();
        assertThat(m.allows("[::ffff:10.3.3.4]:15443")).isFalse();
        assertThat(m.allows("[fd00::1]:15443")).as("another family is never inside").isFalse();
    }

    @Test
    void ipv6AddressesMustBeInsideOneOfTheCidrs() {
        MemberAddresses m = member("fd00:2::/64", "2001:db8:abcd:10::/62");
        assertThat(m.allows("[fd00:2::5]:15443")).isTrue();
        assertThat(m.allows("[fd00:2:0:0:ffff:ffff:ffff:ffff]:15443")).isTrue();
        assertThat(m.allows("[fd00:2:0:1::5]:15443")).isFalse();
        assertThat(m.allows("[2001:db8:abcd:13::1]:443")).as("inside the /62").isTrue();
        assertThat(m.allows("[2001:db8:abcd:14::1]:443")).as("just above the /62").isFalse();
        assertThat(m.allows("10.0.0.1:15443")).isFalse();
        assertThat(m.refusal("[fd00:3::5]:15443")).hasValueSatisfying(r -> assertThat(r)
                .startsWith("address '[fd00:3::5]:15443' is outside member west-b's CIDRs [fd00:2::/64, "));
    }

    @Test
    void aHostNameIsRefusedWhenTheMemberHasCidrs() {
        MemberAddresses m = member("10.2.0.0/16");
        assertThat(m.refusal("gw.example.com:15443")).hasValue("address 'gw.example.com:15443' is not an IP address;"
                + " member west-b has CIDRs [10.2.0.0/16], so it may report only IP addresses inside them");
        assertThat(m.allows("localhost:15443")).isFalse();
        assertThat(m.hostRefusal("10.2.0.9")).isEmpty();
        assertThat(m.hostRefusal("10.9.0.9")).hasValueSatisfying(r -> assertThat(r).contains("'10.9.0.9' is outside"));
    }

    @Test
    void cidrsAreCheckedStrictly() {
        MemberAddresses.checkCidr("0.0.0.0/0");
        MemberAddresses.checkCidr("::/0");
        MemberAddresses.checkCidr("10.0.0.7/32");
        MemberAddresses.checkCidr("fd00::1/128");
        assertThatThrownBy(() -> MemberAddresses.checkCidr("10.0.0.0")).hasMessage(
                "CIDR '10.0.0.0' must be ADDRESS/PREFIX, e.g. 10.1.0.0/16 or fd00:1::/64");
        assertThatThrownBy(() -> MemberAddresses.checkCidr("example.com/16")).hasMessageContaining(
                "must be ADDRESS/PREFIX");
        assertThatThrownBy(() -> MemberAddresses.checkCidr("10.0.0.0/x")).hasMessageContaining(
                "must be ADDRESS/PREFIX");
        assertThatThrownBy(() -> MemberAddresses.checkCidr("10.0.0.0/33")).hasMessage(
                "CIDR '10.0.0.0/33': the prefix must be 0-32");
        assertThatThrownBy(() -> MemberAddresses.checkCidr("fd00::/129")).hasMessage(
                "CIDR 'fd00::/129': the prefix must be 0-128");
        assertThatThrownBy(() -> MemberAddresses.checkCidr("10.0.0.1/8")).hasMessage(
                "CIDR '10.0.0.1/8' has bits set after its /8 prefix; write the range's first address");
        assertThatThrownBy(() -> MemberAddresses.checkCidr("2001:db8:abcd:12::/62")).hasMessageContaining(
                "has bits set after its /62 prefix");
        assertThatThrownBy(() -> MemberAddresses.checkCidr("fe80::1%eth0/64")).hasMessageContaining(
                "must be ADDRESS/PREFIX");
    }

    @Test
    void onlyReportedEndpointsInsideTheCidrsMayBeDialledAndTheFirstRefusalIsNamed() {
        List<WorkloadSetRecord.Workload> reported = List.of(
                new WorkloadSetRecord.Workload("billing", "legacy", "10.2.0.7", 8080, true, "", null),
                new WorkloadSetRecord.Workload("billing", "legacy", "10.9.0.7", 8080, true, "", null),
                new WorkloadSetRecord.Workload("billing", "legacy", "169.254.169.254", 80, true, "", null));

        MemberAddresses.Dialable d = member("10.2.0.0/16").dialable(reported);

        assertThat(d.kept()).extracting(WorkloadSetRecord.Workload::address).containsExactly("10.2.0.7");
        assertThat(d.refused()).isEqualTo(2);
        assertThat(d.firstRefusal()).startsWith("billing.legacy: ").contains("10.9.0.7");
    }
}
