package io.meshfed.edge;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code meshfed.edge.circuit-breaker.*}: the defaults of every {@code CircuitBreaker} filter (Resilience4j). A
 * breaker opens when at least {@code minimum-calls} of the last {@code sliding-window} calls were made and
 * {@code failure-rate-threshold} percent failed, answers 503 without calling the upstream for {@code open-for},
 * then lets {@code half-open-calls} through to decide whether to close again. Calls slower than
 * {@code timeout} fail.
 */
@ConfigurationProperties("meshfed.edge.circuit-breaker")
public record CircuitBreakerProperties(Integer slidingWindow, Integer minimumCalls, Float failureRateThreshold,
        Duration openFor, Integer halfOpenCalls, Duration timeout) {
    public CircuitBreakerProperties {
        slidingWindow = slidingWindow == null ? 20 : slidingWindow;
        minimumCalls = minimumCalls == null ? 10 : minimumCalls;
        failureRateThreshold = failureRateThreshold == null ? 50f : failureRateThreshold;
        openFor = openFor == null ? Duration.ofSeconds(10) : openFor;
        halfOpenCalls = halfOpenCalls == null ? 3 : halfOpenCalls;
        timeout = timeout == null ? Duration.ofSeconds(10) : timeout;
    }
}
