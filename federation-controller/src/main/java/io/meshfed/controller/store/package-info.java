/**
 * The controller's store: resources of a kind kept as revisioned JSON records, one global revision that every change
 * increments, all-or-nothing transactions with compare-and-set, and a change log to watch from a revision.
 * {@link io.meshfed.controller.store.Store} is the seam: SQLite ({@code sqlite}) is the embedded implementation,
 * PostgreSQL ({@code postgres}) the one controller replicas share; {@code backends} picks one by its location.
 */
package io.meshfed.controller.store;
