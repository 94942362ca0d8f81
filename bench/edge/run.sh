#!/usr/bin/env bash
# Edge gateway benchmark: wrk on loopback, in the same rounds, against
#   D  direct to the backend (nginx, fixed 64-byte 200)
#   N  nginx as reverse proxy (keep-alive upstream pool) to the same backend
#   E  the meshfed edge gateway with a static route to the backend (http://127.0.0.1:18080)
#   L  the meshfed edge gateway with a controller route to lb://hello.demo (through its in-process mesh proxy)
# at 16 and 64 keep-alive connections. Reports requests/s, p50/p99 and proxy CPU us per request, and ratios to D
# and N. Self-contained like bench/gateway/run.sh (as root it apt-get installs nginx, wrk, curl).
# Usage: bench/edge/run.sh [-d SECONDS] [-r ROUNDS] [-c "16 64"]     (defaults: -d 10 -r 2; about 4 minutes)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
W="${BENCH_WORK:-/tmp/meshfed-edgebench}"
source "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need nginx wrk curl
EDGE_JAR="$ROOT/edge-gateway/target/meshfed-edge.jar"
bench_build bench:bench/target/benchmarks.jar edge-gateway:edge-gateway/target/meshfed-edge.jar \
  federation-controller:federation-controller/target/meshfed-controller.jar cli:cli/target/meshfed-cli.jar
rm -rf "$W"; mkdir -p "$W/logs" "$W/raw"

backend_nginx_conf '  upstream backend { server 127.0.0.1:18080; keepalive 64; }
  server {
    listen 127.0.0.1:18081 backlog=4096;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }' > "$W/nginx.conf"
nginx -p "$W" -c "$W/nginx.conf" & PIDS+=($!); NGINX_PID=$!

start_federation
MESHFED_JOIN_TOKEN="$(cat "$W/east-edge.token")" java ${EDGE_JAVA_OPTS:-} \
  -Dreactor.netty.http.server.accessLogEnabled=false -jar "$EDGE_JAR" \
  --server.port=28000 --management.server.port=28001 --meshfed.edge.controller=127.0.0.1:25012 \
  --meshfed.edge.member=east --meshfed.edge.name=bench-edge --meshfed.edge.state-dir="$W/edge" \
  --spring.cloud.gateway.server.webflux.routes[0].id=static \
  --spring.cloud.gateway.server.webflux.routes[0].uri=http://127.0.0.1:18080 \
  --spring.cloud.gateway.server.webflux.routes[0].predicates[0]=Path=/static/** \
  --logging.level.root=warn >"$W/logs/edge.log" 2>&1 & PIDS+=($!); EDGE_PID=$!

declare -A URL=( [D]="http://127.0.0.1:18080/" [N]="http://127.0.0.1:18081/" [E]="http://127.0.0.1:28000/static/"
                 [L]="http://127.0.0.1:28000/lb/" )
declare -A PROCS=( [D]="" [N]="$NGINX_PID" [E]="$EDGE_PID" [L]="$EDGE_PID" )
ORDER=(D N E L)
for t in "${ORDER[@]}"; do
  for _ in $(seq 1 120); do curl -sf "${URL[$t]}" >/dev/null 2>&1 && break; sleep 0.5; done
  body=$(curl -sf "${URL[$t]}") || die "$t (${URL[$t]}) does not answer; logs in $W/logs"
  [ ${#body} -eq 63 ] || die "$t answered an unexpected body: $body"
done
# nginx runs a master and a worker: count both.
NGINX_ALL="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; PROCS[N]="$NGINX_ALL"

say "warming up (JIT) for 15 s per edge target"
for t in E L; do wrk -t2 -c32 -d15s "${URL[$t]}" >/dev/null; done

run_rounds

awk -F, "$AWK_COLLECT"'
  '"$AWK_MEDIAN"'
  END {
    print "| target | c | req/s | p50 ms | p99 ms | proxy CPU us/req | vs direct | vs nginx |"
    print "|---|---|---|---|---|---|---|---|"
    nc=split("'"$CONNS"'", conns, " "); split("D N E L", order, " ")
    for (ci=1; ci<=nc; ci++) for (oi=1; oi<=4; oi++) {
      t=order[oi]; c=conns[ci]; k=t","c; if (!(k in n)) continue
      r=med(rps,k,n[k]); rd=med(rps,"D,"c,n["D,"c]); rn=med(rps,"N,"c,n["N,"c])
      cpucol="-"; if (t != "D") cpucol=sprintf("%.0f", med(cpu,k,n[k]))
      ncol="-"; if (t != "D") ncol=sprintf("%.2f", r/rn)
      printf "| %s | %s | %.0f | %.2f | %.2f | %s | %.2f | %s |\n", t, c, r, med(p50,k,n[k]), med(p99,k,n[k]), cpucol, r/rd, ncol
    }
  }' "$W/results.csv" | tee "$W/summary.md"
say "results: $W/results.csv, $W/summary.md, raw wrk output in $W/raw, logs in $W/logs"
