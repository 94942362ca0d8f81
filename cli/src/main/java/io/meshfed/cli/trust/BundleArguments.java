package io.meshfed.cli.trust;

import io.meshfed.cli.context.CliException;
import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.InvalidSpiffeIdException;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.TrustFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads bundle arguments: {@code FILE}, or {@code TD=FILE} for a PEM file whose roots name no trust domain. */
final class BundleArguments {
    /** A bundle as read from a file, with the format it was in. */
    record Loaded(TrustBundle bundle, BundleFiles.Format format) {}

    private BundleArguments() {}

    static Loaded load(Path file, Optional<TrustDomain> trustDomain) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + BundleFiles.describe(e), e);
        }
        try {
            return new Loaded(BundleFiles.parse(text, trustDomain), BundleFiles.detect(text));
        } catch (TrustFormatException e) {
            throw new TrustFormatException(file + ": " + e.getMessage(), e);
        }
    }

    static Loaded load(Path file, String trustDomain) {
        return load(file, Optional.ofNullable(trustDomain).map(TrustDomain::parse));
    }

    /** {@code FILE} or {@code TD=FILE}. */
    static TrustBundle read(String argument) {
        int eq = argument.indexOf('=');
        if (eq > 0) {
            try {
                TrustDomain td = TrustDomain.parse(argument.substring(0, eq));
                return load(Path.of(argument.substring(eq + 1)), Optional.of(td)).bundle();
            } catch (InvalidSpiffeIdException e) {
                // not TD=FILE: a file name that contains '='
            }
        }
        return load(Path.of(argument), Optional.empty()).bundle();
    }

    static BundleSet readSet(List<String> arguments) {
        List<TrustBundle> bundles = new ArrayList<>();
        for (String argument : arguments) {
            TrustBundle bundle = read(argument);
            for (TrustBundle other : bundles) {
                if (other.trustDomain().equals(bundle.trustDomain())) {
                    throw new CliException("two --bundle files are for trust domain " + bundle.trustDomain()
                            + "; give one bundle per trust domain");
                }
            }
            bundles.add(bundle);
        }
        return BundleSet.of(1, bundles);
    }
}
