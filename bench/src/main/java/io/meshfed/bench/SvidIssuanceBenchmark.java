package io.meshfed.bench;

import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.ca.BuiltinCertificateAuthority;
import io.meshfed.trust.ca.IssuancePolicy;
import io.meshfed.trust.ca.IssuedSvid;
import io.meshfed.trust.ca.KeyEncryptionKey;
import io.meshfed.trust.ca.SvidRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * SVIDs issued per second by the builtin CA from PKCS#10 CSRs: parse the CSR, verify its signature, check the
 * policy, build and sign the leaf. The requester's key and CSR are made once in setup (that is the requester's cost).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SvidIssuanceBenchmark {
    @Param({"ec-p256", "rsa-2048"})
    public String caKey;

    private BuiltinCertificateAuthority ca;
    private SvidRequest request;
    private IssuancePolicy policy;

    @Setup
    public void setUp() throws Exception {
        Path dir = Files.createTempDirectory("meshfed-bench-ca");
        TrustDomain td = TrustDomain.parse("east.acme.mesh");
        ca = BuiltinCertificateAuthority.create(dir.resolve("ca"), td, KeyEncryptionKey.createFile(dir.resolve("kek")),
                BuiltinCertificateAuthority.Options.DEFAULTS.withKeyAlgorithm(KeyAlgorithm.parse(caKey)),
                Clock.systemUTC());
        SpiffeId id = td.workload("/ns/demo/sa/hello");
        request = SvidRequest.of(CertificateSigningRequests.createDer(KeyAlgorithm.EC_P256.generate(), id), id,
                Duration.ofHours(24));
        policy = IssuancePolicy.exactly(id);
    }

    @Benchmark
    public IssuedSvid issueFromCsr() throws Exception {
        return ca.issue(request, policy);
    }
}
