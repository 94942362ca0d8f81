/**
 * Leadership among controller replicas that share one store: a lease in the store itself, won and renewed by
 * compare-and-set, and writes of leader-only components fenced by the lease's holder and epoch.
 */
package io.meshfed.controller.leader;
