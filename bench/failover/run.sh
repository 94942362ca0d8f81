#!/bin/sh
# Leader failover time as a distribution over KILLS (default 10) SIGKILLs of the leader of two `meshfed controller`
# processes on one embedded PostgreSQL (lease 3 s). Needs the project built once (mvn -DskipTests install).
# Prints one line: min, p50, p90 and max in ms, and each kill's time.
set -eu
cd "$(dirname "$0")/../.."
KILLS="${KILLS:-10}"
mvn -B -ntp -q -o -pl e2e verify -Djacoco.skip=true -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtest='ControllerReplicasE2ETest#everyKillOfTheLeaderGivesTheNextEpochsLeaderWithin10s' \
    -Dmeshfed.failover.kills="$KILLS"
grep -h "leader failover after SIGKILL over" e2e/target/surefire-reports/*ControllerReplicasE2ETest-output.txt
