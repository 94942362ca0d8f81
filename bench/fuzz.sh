#!/usr/bin/env bash
# Fuzzes every parser that reads input from outside the process, one Jazzer @FuzzTest at a time, for a bounded time
# each (FUZZ_SECONDS, default 300). A crash, an undocumented exception or an input that takes over 1 s fails that
# target: Jazzer stores the input under the test's src/test/resources/<package>/<Class>Inputs/<method>/, where
# `mvn verify` then replays it, and this script exits 1 after the summary.
#
#   bench/fuzz.sh                 every target, 5 minutes each
#   FUZZ_SECONDS=30 bench/fuzz.sh Spiffe Sni   the targets whose name contains "Spiffe" or "Sni", 30 s each
#
# FUZZ_MAVEN_ARGS adds Maven arguments (e.g. -o offline). Logs: bench/target/fuzz/<target>.log; the corpus each run
# grows stays in <module>/.cifuzz-corpus/ (not committed) and is reused by the next run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${FUZZ_SECONDS:-300}"
FILTERS=("$@")
LOGS="$ROOT/bench/target/fuzz"
TARGETS=(
  "trust-bundle io.meshfed.trust.SpiffeIdFuzzTest#spiffeId"
  "trust-bundle io.meshfed.trust.SpiffeIdFuzzTest#trustDomain"
  "trust-bundle io.meshfed.trust.SpiffeBundleJsonFuzzTest#decode"
  "trust-bundle io.meshfed.trust.PemFuzzTest#certificates"
  "trust-bundle io.meshfed.trust.PemFuzzTest#privateKey"
  "trust-bundle io.meshfed.trust.PemFuzzTest#certificateRequest"
  "trust-bundle io.meshfed.trust.ca.CsrIssuanceFuzzTest#issueFromDer"
  "dataplane io.meshfed.dataplane.SniFuzzTest#parse"
  "east-west-gateway io.meshfed.gateway.ConfigSnapshotFuzzTest#gatewayRoutes"
  "cli io.meshfed.cli.admin.RouteFileFuzzTest#read"
  "cli io.meshfed.cli.cluster.OperatorKubeconfigFuzzTest#load"
  "agent-config io.meshfed.agent.config.AgentConfigFuzzTest#load"
  "agent-config io.meshfed.agent.config.AgentConfigFuzzTest#roundTrip"
  "federation-controller io.meshfed.controller.ControllerConfigFuzzTest#yaml"
  "federation-controller io.meshfed.controller.connector.kubernetes.ConnectorKubeconfigFuzzTest#register"
)

[[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: FUZZ_SECONDS must be a positive number of seconds" >&2; exit 2; }
mkdir -p "$LOGS"
failed=0
summary=()
for entry in "${TARGETS[@]}"; do
  module="${entry%% *}"
  test="${entry#* }"
  if [ "${#FILTERS[@]}" -gt 0 ]; then
    chosen=0
    for f in "${FILTERS[@]}"; do [[ "$test" == *"$f"* ]] && chosen=1; done
    [ "$chosen" -eq 1 ] || continue
  fi
  log="$LOGS/${test##*.}.log"
  echo "fuzz.sh: $test for ${SECONDS_EACH}s (log $log)" >&2
  start=$SECONDS
  # Jazzer's JUnit integration: JAZZER_FUZZ=1 fuzzes instead of replaying; one fuzz test per JVM. Its hooks
  # (coverage instrumentation, bug detectors) are on; JUnit's own @Timeout is off so that Jazzer applies it per
  # input (libFuzzer -timeout) rather than to the whole run; -max_total_time replaces @FuzzTest's maxDuration
  # (libFuzzer takes the last value; jazzer.internal.arg.N are the arguments Jazzer passes to libFuzzer).
  set +e
  # shellcheck disable=SC2086
  (cd "$ROOT" && JAZZER_FUZZ=1 mvn -B -ntp ${FUZZ_MAVEN_ARGS:-} -pl "$module" -am test -Dtest="$test" \
      -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.hooks=true -Djunit.jupiter.execution.timeout.mode=disabled \
      -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time="$SECONDS_EACH") >"$log" 2>&1
  rc=$?
  set -e
  took=$((SECONDS - start))
  runs="$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n 1 | sed 's/Done \([0-9]*\) runs in \([0-9]*\) second/\1 inputs in \2 s/' || true)"
  if [ "$rc" -eq 0 ]; then
    result="ok"
  else
    failed=1
    finding="$(grep -m 1 -E 'FuzzTestFindingException|== Java Exception|ALARM: working on the last Unit|COMPILATION ERROR|Exception:' "$log" || true)"
    result="FAILED: ${finding:-see $log}"
  fi
  summary+=("$(printf '%-58s %4ss  %-26s %s' "$test" "$took" "${runs:-no fuzzing stats}" "$result")")
done

printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: findings are stored under src/test/resources/<package>/<Class>Inputs/<method>/ (git status shows them)" >&2
  exit 1
fi
