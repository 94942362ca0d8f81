/**
 * The federation's resources as stored: one record type per kind, serialised as JSON into the
 * {@link io.meshfed.controller.store.Store}. {@link io.meshfed.controller.model.Records} reads and writes them.
 */
package io.meshfed.controller.model;
