/**
 * The VM agent: joins once with a token and keeps its identity in an owner-only state directory, fronts the VM's
 * services with an mTLS listener routed by SNI, exposes imported services on local ports, and reports the health
 * of the local services to the controller.
 */
package io.meshfed.agent;
