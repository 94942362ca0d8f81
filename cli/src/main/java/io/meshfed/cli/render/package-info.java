/**
 * How command output is rendered: plain text tables ({@link io.meshfed.cli.render.Table}), admin API responses as
 * JSON ({@link io.meshfed.cli.render.ProtoJson}), and the tables more than one command prints. It depends on the API
 * messages only, never on a command.
 */
package io.meshfed.cli.render;
