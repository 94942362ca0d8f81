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
DURATION=10 ROUNDS=2 CONNS="16 64"
while getopts "d:r:c:" o; do
  case $o in d) DURATION=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CONNS=$OPTARG ;; *) exit 2 ;; esac
done
say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }
need=()
for t in nginx wrk curl; do command -v $t >/dev/null || need+=("$t"); done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${need[*]}: apt-get install nginx wrk curl"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx wrk curl >/dev/null
fi
BENCH_JAR="$ROOT/bench/target/benchmarks.jar"
CONTROLLER_JAR="$ROOT/federation-controller/target/meshfed-controller.jar"
EDGE_JAR="$ROOT/edge-gateway/target/meshfed-edge.jar"
if [ ! -f "$BENCH_JAR" ] || [ ! -f "$EDGE_JAR" ] || [ ! -f "$CONTROLLER_JAR" ]; then
  say "building (mvn -DskipTests package)"
  (cd "$ROOT" && mvn -q -B -ntp -DskipTests -pl bench,edge-gateway,federation-controller,cli -am package)
fi
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_all EXIT
rm -rf "$W"; mkdir -p "$W/logs" "$W/raw" "$W/nginx-tmp"

cat > "$W/nginx.conf" <<NGINX
worker_processes 1;
pid $W/nginx.pid;
error_log $W/logs/nginx.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $W/nginx-tmp;
  proxy_temp_path $W/nginx-tmp;
  upstream backend { server 127.0.0.1:18080; keepalive 64; }
  server {
    listen 127.0.0.1:18080 backlog=4096;
    location / { default_type text/plain; return 200 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"; }
  }
  server {
    listen 127.0.0.1:18081 backlog=4096;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
nginx -p "$W" -c "$W/nginx.conf" & PIDS+=($!); NGINX_PID=$!

export MESHFED_HOME="$W/home"
java -jar "$CONTROLLER_JAR" init --controller 127.0.0.1:25012 --data-dir "$W/controller" >"$W/logs/init.log" 2>&1
java -jar "$CONTROLLER_JAR" --data-dir "$W/controller" --listen 127.0.0.1:25012 --http-listen 127.0.0.1:25014 \
  >"$W/logs/controller.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 120); do grep -q "meshfed controller ready" "$W/logs/controller.log" && break; sleep 0.5; done
java -cp "$BENCH_JAR" io.meshfed.bench.GatewayBenchSetup "$W" 127.0.0.1:25012 127.0.1.1:25443 127.0.2.1:25443 \
  127.0.0.1:18080 >"$W/logs/setup.log" 2>&1 || die "setup failed: $(tail -3 "$W/logs/setup.log")"
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

cpu_ticks() { local total=0 p; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $total; }
HZ=$(getconf CLK_TCK)
say "warming up (JIT) for 15 s per edge target"
for t in E L; do wrk -t2 -c32 -d15s "${URL[$t]}" >/dev/null; done

echo "round,target,connections,rps,p50_ms,p99_ms,cpu_us_per_req" > "$W/results.csv"
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v+0 } else { sub(/s$/,"",v); print v*1000 } }'; }
for r in $(seq 1 "$ROUNDS"); do
  for c in $CONNS; do
    for t in "${ORDER[@]}"; do
      before=$(cpu_ticks ${PROCS[$t]})
      out="$W/raw/$r-$t-$c.txt"
      wrk -t2 -c"$c" -d"${DURATION}s" --latency "${URL[$t]}" > "$out"
      after=$(cpu_ticks ${PROCS[$t]})
      rps=$(awk '/Requests\/sec/ {print $2}' "$out"); total=$(awk '/requests in/ {print $1}' "$out")
      p50=$(awk '$1=="50%" {print $2}' "$out"); p99=$(awk '$1=="99%" {print $2}' "$out")
      cpu=""; [ -n "${PROCS[$t]}" ] && cpu=$(awk -v a="$after" -v b="$before" -v n="$total" -v hz="$HZ" 'BEGIN { printf "%.1f", (a-b)*1e6/hz/n }')
      echo "$r,$t,$c,$rps,$(ms "$p50"),$(ms "$p99"),$cpu" >> "$W/results.csv"
      say "round $r c=$c $t: $rps req/s, p50 $p50, p99 $p99${cpu:+, proxy CPU $cpu us/req}"
      ! grep -q "Non-2xx\|Socket errors" "$out" || say "  (wrk reported errors: $(grep "Non-2xx\|Socket errors" "$out" | tr '\n' ' '))"
    done
  done
done

awk -F, 'NR > 1 { k=$2","$3; n[k]++; rps[k, n[k]]=$4; p50[k, n[k]]=$5; p99[k, n[k]]=$6; cpu[k, n[k]]=$7 }
  function med(a, k, cnt,   i, j, t, v) { for (i=1;i<=cnt;i++) v[i]=a[k,i]; for (i=1;i<=cnt;i++) for (j=i+1;j<=cnt;j++) if (v[j]+0<v[i]+0) { t=v[i]; v[i]=v[j]; v[j]=t }
    return cnt % 2 ? v[(cnt+1)/2] : (v[cnt/2] + v[cnt/2+1]) / 2 }
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
