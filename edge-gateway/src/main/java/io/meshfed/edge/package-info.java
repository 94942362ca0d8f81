/**
 * The edge gateway: Spring Cloud Gateway (WebFlux) for north-south traffic into the mesh. It joins the controller
 * as an edge identity, follows its config stream, turns the controller's routes into route definitions live, and
 * resolves {@code lb://<name>.<namespace>} through the federated catalog.
 */
package io.meshfed.edge;
