/**
 * The controller's store: resources of a kind kept as revisioned JSON records, one global revision that every change
 * increments, all-or-nothing transactions with compare-and-set, and a change log to watch from a revision.
 * {@link io.meshfed.controller.store.Store} is the seam; SQLite is the embedded implementation.
 */
package io.meshfed.controller.store;
