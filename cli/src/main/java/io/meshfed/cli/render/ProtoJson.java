package io.meshfed.cli.render;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

/** {@code -o json}: an admin API response as proto3 JSON, the form the controller's JSON admin API answers in. */
public final class ProtoJson {
    private ProtoJson() {}

    public static String print(MessageOrBuilder message) {
        try {
            return JsonFormat.printer().print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
