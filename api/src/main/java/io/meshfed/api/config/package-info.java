/** The config stream's content contracts shared by the controller and every subscriber: versions and deltas. */
package io.meshfed.api.config;
