package io.meshfed.dataplane;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import java.io.IOException;
import java.io.Writer;

/**
 * The JSON writer of every {@code meshfed.access} line (the proxies' and the edge gateway's). Values come from
 * clients (a path, a method, an SNI-derived name), so besides JSON's own escapes every character that a log viewer or
 * terminal could act on is written as a {@code \\uXXXX} escape: DEL, and everything outside ASCII (C1 controls such
 * as CSI, bidirectional overrides). A line is thus one line of printable ASCII.
 */
public final class AccessLogJson {
    private static final JsonFactory FACTORY = JsonFactory.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .build();
    private static final CharacterEscapes ESCAPES = new CharacterEscapes() {
                private static final long serialVersionUID = 1L;
                private final int[] ascii = escapes();

                private static int[] escapes() {
                    int[] e = CharacterEscapes.standardAsciiEscapesForJSON();
                    e[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
                    return e;
                }

                @Override
                public int[] getEscapeCodesForAscii() {
                    return ascii;
                }

                @Override
                public SerializableString getEscapeSequence(int ch) {
                    return null; // the standard \\uXXXX form
                }
            };

    private AccessLogJson() {}

    /** Writes {@code name} only when its value is known: an access line leaves unknown fields out. */
    public static void field(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) {
            g.writeStringField(name, value);
        }
    }

    public static JsonGenerator generator(Writer out) throws IOException {
        JsonGenerator g = FACTORY.createGenerator(out);
        g.setCharacterEscapes(ESCAPES);
        return g;
    }
}
