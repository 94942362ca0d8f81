/**
 * Implementation details of the trust library: certificate construction, key encryption and file writing. Not an API;
 * other modules must not use it, and it can change at any time.
 */
package io.meshfed.trust.internal;
