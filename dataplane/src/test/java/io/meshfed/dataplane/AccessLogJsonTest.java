package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** An access line is one line of printable ASCII whatever a client sent, and reads back as what it sent. */
class AccessLogJsonTest {
    @Test
    void controlsDelC1AndBidiCharactersAreEscapedAndReadBackUnchanged() throws Exception {
        String hostile = "/a\nfake line\r\u001b[2J\u007f\u009b31m\u202egnp.exe\u00e9";
        StringWriter out = new StringWriter();
        try (JsonGenerator g = AccessLogJson.generator(out)) {
            g.writeStartObject();
            g.writeStringField("path", hostile);
            g.writeEndObject();
        }
        String line = out.toString();
        assertThat(line.chars()).allMatch(c -> c >= 0x20 && c < 0x7f);
        assertThat(line).contains("\\u007F", "\\u009B", "\\u202E", "\\u001B", "\\n");
        assertThat(new ObjectMapper().readTree(line).path("path").asText()).isEqualTo(hostile);
    }
}
