/** The controller's domain exceptions: what business code throws, translated to gRPC and HTTP in one place. */
package io.meshfed.controller.errors;
