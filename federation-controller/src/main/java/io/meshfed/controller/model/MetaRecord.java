package io.meshfed.controller.model;

/** A counter kept in the store, e.g. the bundle set version. */
public record MetaRecord(long value) {
    public static final String BUNDLE_SET_VERSION = "bundle-set-version";
}
