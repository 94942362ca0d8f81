package io.meshfed.cli.cluster;

import com.google.protobuf.util.JsonFormat;
import io.meshfed.api.AdminFiles;
import io.meshfed.api.v1.AdminConfig;
import io.meshfed.cli.context.CliException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The controller address in the admin config ({@code $MESHFED_HOME/config.json}). */
final class AdminConfigFile {
    private AdminConfigFile() {}

    static String controllerAddress(Map<String, String> environment) {
        Path file = AdminFiles.home(environment).resolve(AdminFiles.CONFIG);
        try {
            AdminConfig.Builder b = AdminConfig.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(file), b);
            return b.getControllerAddress();
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
