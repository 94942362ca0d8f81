/**
 * Certificate authorities that issue X.509-SVIDs from PKCS#10 requests, behind one interface
 * ({@link io.meshfed.trust.ca.CertificateAuthority}): {@code builtin} (BouncyCastle, keys encrypted at rest) and
 * {@code provided} (an operator's intermediate as PEM files). Keys never leave their holder: only CSRs come in.
 */
package io.meshfed.trust.ca;
