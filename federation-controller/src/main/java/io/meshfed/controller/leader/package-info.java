/**
 * Leadership among controller replicas that share one store: a lease (in the store, or a Kubernetes Lease) won and
 * renewed by compare-and-set, and writes of leader-only components fenced by the store's record of the lease's
 * holder and epoch.
 */
package io.meshfed.controller.leader;
