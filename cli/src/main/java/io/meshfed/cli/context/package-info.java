/**
 * What every command shares and depends on, below the command packages: the {@link io.meshfed.cli.context.CliContext}
 * commands are built with, the failure they report ({@link io.meshfed.cli.context.CliException}), the exit codes, and
 * the duration converter. Nothing here depends on a command package.
 */
package io.meshfed.cli.context;
