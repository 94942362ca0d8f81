# Shared by bench/gateway/run.sh and bench/edge/run.sh; sourced, not run. Expects ROOT and W to be set.
# shellcheck shell=bash

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

# Parses -d SECONDS -r ROUNDS -c "CONNECTIONS" into DURATION, ROUNDS, CONNS (defaults 10, 2, "16 64").
bench_args() {
  DURATION=10 ROUNDS=2 CONNS="16 64"
  local o OPTIND=1
  while getopts "d:r:c:" o; do
    case $o in d) DURATION=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CONNS=$OPTARG ;; *) exit 2 ;; esac
  done
}

# bench_need TOOL...: installs the missing ones from Debian (as root), or says what to install.
bench_need() {
  local need=() t
  for t in "$@"; do command -v "$t" >/dev/null || need+=("$t"); done
  [ ${#need[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing ${need[*]}: apt-get install $*"
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

BENCH_JAR="$ROOT/bench/target/benchmarks.jar"
CLI_JAR="$ROOT/cli/target/meshfed-cli.jar"
CONTROLLER_JAR="$ROOT/federation-controller/target/meshfed-controller.jar"

# bench_build MODULE:JAR...: builds with Maven when one of the jars is missing.
bench_build() {
  local modules=() missing=0 m
  for m in "$@"; do
    modules+=("${m%%:*}")
    [ -f "$ROOT/${m#*:}" ] || missing=1
  done
  if [ $missing = 1 ]; then
    say "building (mvn -DskipTests package)"
    (cd "$ROOT" && mvn -q -B -ntp -DskipTests -pl "$(IFS=,; echo "${modules[*]}")" -am package)
  fi
}

# Every process started goes into PIDS and is stopped when the script exits.
PIDS=()
stop_all() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_all EXIT

# backend_nginx_conf [EXTRA_HTTP_CONFIG]: nginx in the foreground with the backend on 127.0.0.1:18080 (a fixed
# 64-byte 200, keep-alive; files under $W/www at /bulk/, for bulk transfers), plus whatever the caller adds inside
# http { }.
backend_nginx_conf() {
  mkdir -p "$W/nginx-tmp"
  cat <<NGINX
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
  server {
    listen 127.0.0.1:18080 backlog=4096;
    location / { default_type text/plain; return 200 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"; }
    location /bulk/ { root $W/www; sendfile on; }
  }
${1:-}
}
NGINX
}

# start_federation [EAST_T_GW EAST_T_TUNNEL WEST_T_GW]: a controller on 127.0.0.1:25012 (admin credentials in
# $W/home), then GatewayBenchSetup: networks east (a Kubernetes member on a mock API server) and west, hello.demo at
# the backend, join tokens in $W/*.token; with the arguments also the tunnel pair east-t (its address with a tunnel
# listener) and west-t, hello-t.demo at the same backend.
start_federation() {
  export MESHFED_HOME="$W/home"
  java -jar "$CONTROLLER_JAR" init --controller 127.0.0.1:25012 --data-dir "$W/controller" >"$W/logs/init.log" 2>&1
  java -jar "$CONTROLLER_JAR" --data-dir "$W/controller" --listen 127.0.0.1:25012 --http-listen 127.0.0.1:25014 \
    >"$W/logs/controller.log" 2>&1 & PIDS+=($!)
  local _
  for _ in $(seq 1 120); do grep -q "meshfed controller ready" "$W/logs/controller.log" && break; sleep 0.5; done
  # GatewayBenchSetup keeps running: it serves east's (mock) Kubernetes API, whose EndpointSlice holds the backend.
  java -cp "$BENCH_JAR" io.meshfed.bench.GatewayBenchSetup "$W" 127.0.0.1:25012 127.0.1.1:25443 127.0.2.1:25443 \
    127.0.0.1:18080 "$@" >"$W/logs/setup.log" 2>&1 & PIDS+=($!)
  local setup=$!
  for _ in $(seq 1 240); do
    grep -q "bench federation ready" "$W/logs/setup.log" && return 0
    kill -0 "$setup" 2>/dev/null || die "setup failed: $(tail -3 "$W/logs/setup.log")"
    sleep 0.5
  done
  die "setup did not finish: $(tail -3 "$W/logs/setup.log")"
}

# metric HOST:PORT NAME [LABEL=\"VALUE\"...]: the sum of the samples of NAME on a proxy's /metrics whose labels
# include every LABEL given (0 when there is none).
metric() {
  local addr=$1 name=$2; shift 2
  curl -sf "http://$addr/metrics" | awk -v name="$name" -v want="$*" '
    $1 == name || index($1, name "{") == 1 {
      n = split(want, w, " "); for (i = 1; i <= n; i++) if (index($1, w[i]) == 0) next
      s += $NF }
    END { printf "%d\n", s }'
}

# cpu_ticks PID...: user+system clock ticks of the processes so far.
cpu_ticks() { local total=0 p; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $total; }
HZ=$(getconf CLK_TCK)

# ms VALUE: wrk's latency (123.00us, 1.50ms, 2.00s) in milliseconds.
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v+0 } else { sub(/s$/,"",v); print v*1000 } }'; }

# measure ROUND TARGET CONNECTIONS URL "PIDS" [wrk header args...]: one wrk run, appended to $W/results.csv (or to
# $MEASURE_CSV when set). When the caller defines them, before_measure TARGET runs just before wrk and
# after_measure ROUND TARGET CONNECTIONS REQUESTS just after it (for example to read a proxy's counters).
measure() {
  local r=$1 t=$2 c=$3 url=$4 pids=$5 csv=${MEASURE_CSV:-$W/results.csv}; shift 5
  local out="$W/raw/$r-$t-$c.txt" before after rps total p50 p99 cpu=""
  # shellcheck disable=SC2086
  before=$(cpu_ticks $pids)
  ! declare -F before_measure >/dev/null || before_measure "$t"
  wrk -t2 -c"$c" -d"${DURATION}s" --latency "$@" "$url" > "$out"
  # shellcheck disable=SC2086
  after=$(cpu_ticks $pids)
  rps=$(awk '/Requests\/sec/ {print $2}' "$out"); total=$(awk '/requests in/ {print $1}' "$out")
  ! declare -F after_measure >/dev/null || after_measure "$r" "$t" "$c" "$total"
  p50=$(awk '$1=="50%" {print $2}' "$out"); p99=$(awk '$1=="99%" {print $2}' "$out")
  [ -n "$pids" ] && cpu=$(awk -v a="$after" -v b="$before" -v n="$total" -v hz="$HZ" 'BEGIN { if (n > 0) printf "%.1f", (a-b)*1e6/hz/n }')
  echo "$r,$t,$c,$rps,$(ms "$p50"),$(ms "$p99"),$cpu" >> "$csv"
  say "round $r c=$c $t: $rps req/s, p50 $p50, p99 $p99${cpu:+, proxy CPU $cpu us/req}"
  ! grep -q "Non-2xx\|Socket errors" "$out" || say "  (wrk reported errors: $(grep "Non-2xx\|Socket errors" "$out" | tr '\n' ' '))"
}

# run_rounds: measures every target of ORDER (URL[t], PROCS[t]) at every connection count, ROUNDS times, the
# targets interleaved within a round; a target whose name contains "-close" sends "Connection: close".
run_rounds() {
  local r c t hdr
  echo "round,target,connections,rps,p50_ms,p99_ms,cpu_us_per_req" > "$W/results.csv"
  for r in $(seq 1 "$ROUNDS"); do
    for c in $CONNS; do
      for t in "${ORDER[@]}"; do
        hdr=(); [[ $t == *-close* ]] && hdr=(-H "Connection: close")
        measure "$r" "$t" "$c" "${URL[$t]}" "${PROCS[$t]}" "${hdr[@]}"
      done
    done
  done
}

# The summaries' awk program starts with these: results.csv by target and connections, then the median function.
AWK_COLLECT='NR > 1 { k=$2","$3; n[k]++; rps[k, n[k]]=$4; p50[k, n[k]]=$5; p99[k, n[k]]=$6; cpu[k, n[k]]=$7 }'

# An awk function for the summaries: the median of a[k, 1..cnt].
AWK_MEDIAN='function med(a, k, cnt,   i, j, t, v) { for (i=1;i<=cnt;i++) v[i]=a[k,i]; for (i=1;i<=cnt;i++) for (j=i+1;j<=cnt;j++) if (v[j]+0<v[i]+0) { t=v[i]; v[i]=v[j]; v[j]=t }
    return cnt % 2 ? v[(cnt+1)/2] : (v[cnt/2] + v[cnt/2+1]) / 2 }'
