/**
 * TLS with SPIFFE identities: key and trust managers that read a hot-swappable {@link
 * io.meshfed.trust.tls.TlsCredentials}, and factories for Netty and JDK contexts (TLS 1.3 only, OpenSSL where it
 * loads). A peer is verified against the bundle of its own trust domain and then authorized by its SPIFFE ID.
 */
package io.meshfed.trust.tls;
