/**
 * What the runnable jars' {@code main} methods share: {@link io.meshfed.launcher.ProcessLogging} (slf4j-simple
 * defaults), {@link io.meshfed.launcher.OneLineErrorHandler} ({@code <program>: <what went wrong>}, exit 1) and
 * {@link io.meshfed.launcher.Foreground} (shutdown hook, ready line, wait). The join token's source (flag or
 * {@code MESHFED_JOIN_TOKEN}) belongs to joining and lives in control-client's {@code JoinTokenSource}.
 */
package io.meshfed.launcher;
