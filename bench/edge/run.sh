#!/usr/bin/env bash
# Edge gateway benchmark: wrk on loopback, in the same rounds, against
#   D  direct to the backend (nginx, fixed 64-byte 200)
#   N  nginx as reverse proxy (keep-alive upstream pool) to the same backend
#   V  a vanilla Spring Cloud Gateway application (bench/vanilla-scg, the root pom's Spring Boot and Spring Cloud
#      versions) with one static route to the backend
#   E  the meshfed edge gateway with a static route to the backend (http://127.0.0.1:18080)
#   L  the meshfed edge gateway with a controller route to lb://hello.demo (through its in-process mesh proxy)
# at 16 and 64 keep-alive connections. Reports requests/s, p50/p99 and proxy CPU us per request, and ratios to D
# N and V. Self-contained like bench/gateway/run.sh (as root it apt-get installs nginx, wrk, curl).
# Usage: bench/edge/run.sh [-d SECONDS] [-r ROUNDS] [-c "16 64"]     (defaults: -d 10 -r 2; about 5 minutes)
# A profile of the edge: EDGE_JAVA_OPTS="-XX:StartFlightRecording=filename=/tmp/edge.jfr,settings=profile"
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
W="${BENCH_WORK:-/tmp/meshfed-edgebench}"
source "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need nginx wrk curl
EDGE_JAR="$ROOT/edge-gateway/target/meshfed-edge.jar"
bench_build bench:bench/target/benchmarks.jar edge-gateway:edge-gateway/target/meshfed-edge.jar \
  federation-controller:federation-controller/target/meshfed-controller.jar cli:cli/target/meshfed-cli.jar
# The vanilla gateway is a standalone Maven project (not in the root reactor), built offline with the root pom's
# Spring Boot and Spring Cloud versions.
VANILLA_JAR="$ROOT/bench/vanilla-scg/target/vanilla-scg.jar"
root_version() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$ROOT/pom.xml" | head -1; }
say "building bench/vanilla-scg (Spring Boot $(root_version spring-boot.version), Spring Cloud $(root_version spring-cloud.version))"
(cd "$ROOT/bench/vanilla-scg" && mvn -q -B -ntp -o package -Dspring-boot.version="$(root_version spring-boot.version)" \
  -Dspring-cloud.version="$(root_version spring-cloud.version)")
# (Netty and Bouncy Castle are pinned in its pom to the root pom's values: as -D properties they would also reach
# the imported BOMs' own properties.)
rm -rf "$W"; mkdir -p "$W/logs" "$W/raw"

backend_nginx_conf '  upstream backend { server 127.0.0.1:18080; keepalive 64; }
  server {
    listen 127.0.0.1:18081 backlog=4096;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }' > "$W/nginx.conf"
nginx -p "$W" -c "$W/nginx.conf" & PIDS+=($!); NGINX_PID=$!

java ${VANILLA_JAVA_OPTS:-} -Dreactor.netty.http.server.accessLogEnabled=false -jar "$VANILLA_JAR" \
  --server.address=127.0.0.1 --server.port=28100 \
  --spring.cloud.gateway.server.webflux.routes[0].id=static \
  --spring.cloud.gateway.server.webflux.routes[0].uri=http://127.0.0.1:18080 \
  --spring.cloud.gateway.server.webflux.routes[0].predicates[0]=Path=/static/** \
  --logging.level.root=warn >"$W/logs/vanilla.log" 2>&1 & PIDS+=($!); VANILLA_PID=$!

start_federation
MESHFED_JOIN_TOKEN="$(cat "$W/east-edge.token")" java ${EDGE_JAVA_OPTS:-} \
  -Dreactor.netty.http.server.accessLogEnabled=false -jar "$EDGE_JAR" \
  --server.port=28000 --management.server.port=28001 --meshfed.edge.controller=127.0.0.1:25012 \
  --meshfed.edge.member=east --meshfed.edge.name=bench-edge --meshfed.edge.state-dir="$W/edge" \
  --spring.cloud.gateway.server.webflux.routes[0].id=static \
  --spring.cloud.gateway.server.webflux.routes[0].uri=http://127.0.0.1:18080 \
  --spring.cloud.gateway.server.webflux.routes[0].predicates[0]=Path=/static/** \
  --logging.level.root=warn >"$W/logs/edge.log" 2>&1 & PIDS+=($!); EDGE_PID=$!

declare -A URL=( [D]="http://127.0.0.1:18080/" [N]="http://127.0.0.1:18081/" [V]="http://127.0.0.1:28100/static/"
                 [E]="http://127.0.0.1:28000/static/"
                 [L]="http://127.0.0.1:28000/lb/" )
declare -A PROCS=( [D]="" [N]="$NGINX_PID" [V]="$VANILLA_PID" [E]="$EDGE_PID" [L]="$EDGE_PID" )
ORDER=(D N V E L)
for t in "${ORDER[@]}"; do
  for _ in $(seq 1 120); do curl -sf "${URL[$t]}" >/dev/null 2>&1 && break; sleep 0.5; done
  body=$(curl -sf "${URL[$t]}") || die "$t (${URL[$t]}) does not answer; logs in $W/logs"
  [ ${#body} -eq 63 ] || die "$t answered an unexpected body: $body"
done
# nginx runs a master and a worker: count both.
NGINX_ALL="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; PROCS[N]="$NGINX_ALL"

say "warming up (JIT) for 15 s per gateway target"
for t in V E L; do wrk -t2 -c32 -d15s "${URL[$t]}" >/dev/null; done

run_rounds

awk -F, "$AWK_COLLECT"'
  '"$AWK_MEDIAN"'
  END {
    print "| target | c | req/s | p50 ms | p99 ms | proxy CPU us/req | vs direct | vs nginx | vs vanilla SCG | p99 vs nginx |"
    print "|---|---|---|---|---|---|---|---|---|---|"
    nc=split("'"$CONNS"'", conns, " "); split("D N V E L", order, " ")
    for (ci=1; ci<=nc; ci++) for (oi=1; oi<=5; oi++) {
      t=order[oi]; c=conns[ci]; k=t","c; if (!(k in n)) continue
      r=med(rps,k,n[k]); rd=med(rps,"D,"c,n["D,"c]); rn=med(rps,"N,"c,n["N,"c]); rv=med(rps,"V,"c,n["V,"c])
      q=med(p99,k,n[k]); qn=med(p99,"N,"c,n["N,"c])
      cpucol="-"; if (t != "D") cpucol=sprintf("%.0f", med(cpu,k,n[k]))
      ncol="-"; if (t != "D") ncol=sprintf("%.2f", r/rn)
      vcol="-"; if (t == "E" || t == "L") vcol=sprintf("%.2f", r/rv)
      qcol="-"; if (t != "D" && t != "N") qcol=sprintf("%.2f", q/qn)
      printf "| %s | %s | %.0f | %.2f | %.2f | %s | %.2f | %s | %s | %s |\n", t, c, r, med(p50,k,n[k]), q, cpucol, r/rd, ncol, vcol, qcol
    }
  }' "$W/results.csv" | tee "$W/summary.md"
say "results: $W/results.csv, $W/summary.md, raw wrk output in $W/raw, logs in $W/logs"
