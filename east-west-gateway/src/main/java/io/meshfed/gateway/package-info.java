/**
 * The east-west gateway's data path: an inbound mTLS listener that routes by SNI to local endpoints of exported
 * services, and outbound plain-TCP listeners that open mTLS to the destination network's gateway. What to route is
 * a {@link io.meshfed.api.v1.ConfigSnapshot} from the controller, swapped in live.
 */
package io.meshfed.gateway;
