package io.meshfed.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.Locality.Proximity;
import org.junit.jupiter.api.Test;

class LocalityTest {
    @Test
    void readsRegionAndZone() {
        assertThat(Locality.parse("eu-west/a")).isEqualTo(new Locality("eu-west", "a"));
        assertThat(Locality.parse("eu-west")).isEqualTo(new Locality("eu-west", ""));
        assertThat(Locality.parse("eu-west/a").toString()).isEqualTo("eu-west/a");
    }

    @Test
    void anythingElseIsUnknown() {
        for (String bad : new String[] {"", "  ", "/a", "eu/", "eu/a/b", "x".repeat(300)}) {
            assertThat(Locality.parse(bad)).as(bad).isEqualTo(Locality.UNKNOWN);
        }
        assertThat(Locality.parse(null).known()).isFalse();
    }

    @Test
    void proximityIsZoneThenRegion() {
        Locality me = Locality.parse("eu-west/a");
        assertThat(me.proximity(Locality.parse("eu-west/a"))).isEqualTo(Proximity.SAME_ZONE);
        assertThat(me.proximity(Locality.parse("eu-west/b"))).isEqualTo(Proximity.SAME_REGION);
        assertThat(me.proximity(Locality.parse("eu-west"))).isEqualTo(Proximity.SAME_REGION);
        assertThat(me.proximity(Locality.parse("us-east/a"))).isEqualTo(Proximity.OTHER);
        assertThat(me.proximity(Locality.UNKNOWN)).isEqualTo(Proximity.OTHER);
        assertThat(Locality.UNKNOWN.proximity(Locality.UNKNOWN)).isEqualTo(Proximity.OTHER);
        assertThat(Locality.parse("eu-west").proximity(Locality.parse("eu-west"))).isEqualTo(Proximity.SAME_REGION);
    }
}
