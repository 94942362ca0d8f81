/**
 * What every subscriber of the controller needs: joining with a token ({@link io.meshfed.client.Joiner}), its
 * identity and last config on disk ({@link io.meshfed.client.StateDir}), SVID renewal at half life, and a config
 * stream that keeps working from the cached snapshot while the controller is away
 * ({@link io.meshfed.client.ConfigSubscriber}).
 */
package io.meshfed.client;
