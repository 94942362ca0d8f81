package io.meshfed.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class JoinTokenSourceTest {
    private static final String TOKEN = "mf1.abc.secret.pin";

    @Test
    void theEnvironmentVariableIsMeshfedJoinToken() {
        assertThat(JoinTokenSource.ENVIRONMENT_VARIABLE).isEqualTo("MESHFED_JOIN_TOKEN");
        assertThat(JoinTokenSource.resolve(null, Map.of("MESHFED_JOIN_TOKEN", TOKEN))).contains(TOKEN);
    }

    @Test
    void aGivenFlagWinsOverTheEnvironment() {
        assertThat(JoinTokenSource.resolve(TOKEN, Map.of("MESHFED_JOIN_TOKEN", "mf1.other.secret.pin")))
                .contains(TOKEN);
    }

    @Test
    void aBlankFlagCountsAsNoneAndTheEnvironmentIsUsed() {
        assertThat(JoinTokenSource.resolve("", Map.of("MESHFED_JOIN_TOKEN", TOKEN))).contains(TOKEN);
        assertThat(JoinTokenSource.resolve("  \t", Map.of("MESHFED_JOIN_TOKEN", TOKEN))).contains(TOKEN);
    }

    @Test
    void missingEmptyOrWhitespaceEverywhereIsNoToken() {
        assertThat(JoinTokenSource.resolve(null, Map.of())).isEmpty();
        assertThat(JoinTokenSource.resolve(null, Map.of("MESHFED_JOIN_TOKEN", ""))).isEmpty();
        assertThat(JoinTokenSource.resolve(null, Map.of("MESHFED_JOIN_TOKEN", " \n"))).isEmpty();
        assertThat(JoinTokenSource.resolve(" ", Map.of("MESHFED_JOIN_TOKEN", "\t"))).isEmpty();
        assertThat(JoinTokenSource.resolve(null, Map.of("MESHFED_TOKEN", TOKEN))).as("another variable").isEmpty();
    }

    @Test
    void theCreateCommandNamesTheMemberAndRole() {
        assertThat(JoinTokenSource.createCommand("east", "gateway"))
                .isEqualTo("meshfed token create --member east --role gateway");
    }
}
