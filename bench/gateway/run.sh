#!/usr/bin/env bash
# Gateway pair benchmark: wrk on loopback, in the same rounds, against
#   D  direct to the backend (nginx, fixed 64-byte 200)
#   H  an HAProxy mTLS gateway pair (egress: plain in, TLS 1.3 + client cert out; ingress: verify, authorize, SNI route)
#   M  a meshfed east-west gateway pair (west outbound listener -> mTLS -> east inbound -> backend)
# each with keep-alive and with a new connection per request (Connection: close; H-full also refuses TLS resumption),
# at 16 and 64 connections. Reports requests/s, p50/p99 and proxy CPU us per request, and ratios to D and H.
# Self-contained: needs haproxy, nginx, wrk, openssl, curl (installed with apt-get when run as root) and JDK 17 + Maven.
# Usage: bench/gateway/run.sh [-d SECONDS] [-r ROUNDS] [-c "16 64"]     (defaults: -d 10 -r 2; about 8 minutes)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
W="${BENCH_WORK:-/tmp/meshfed-gwbench}"
DURATION=10 ROUNDS=2 CONNS="16 64"
while getopts "d:r:c:" o; do
  case $o in d) DURATION=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CONNS=$OPTARG ;; *) exit 2 ;; esac
done
say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

need=()
for t in haproxy nginx wrk openssl curl; do command -v $t >/dev/null || need+=("$t"); done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${need[*]}: apt-get install haproxy nginx wrk openssl curl"
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy nginx wrk openssl curl >/dev/null
fi

BENCH_JAR="$ROOT/bench/target/benchmarks.jar"
CLI_JAR="$ROOT/cli/target/meshfed-cli.jar"
CONTROLLER_JAR="$ROOT/federation-controller/target/meshfed-controller.jar"
GATEWAY_JAR="$ROOT/east-west-gateway/target/meshfed-gateway.jar"
if [ ! -f "$BENCH_JAR" ] || [ ! -f "$GATEWAY_JAR" ] || [ ! -f "$CONTROLLER_JAR" ] || [ ! -f "$CLI_JAR" ]; then
  say "building (mvn -DskipTests package)"
  (cd "$ROOT" && mvn -q -B -ntp -DskipTests -pl bench,east-west-gateway,federation-controller,cli -am package)
fi

PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_all EXIT
rm -rf "$W"; mkdir -p "$W/certs" "$W/logs" "$W/raw"

# ---- backend and HAProxy pair -------------------------------------------------------------------------------
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
  server {
    listen 127.0.0.1:18080 backlog=4096;
    location / { default_type text/plain; return 200 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"; }
  }
}
NGINX
mkdir -p "$W/nginx-tmp"
nginx -p "$W" -c "$W/nginx.conf" & PIDS+=($!)

(
  cd "$W/certs"; umask 077
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key
  openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=bench CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign" -addext "subjectAltName=URI:spiffe://east.example" -out ca.crt 2>/dev/null
  for n in egress ingress; do
    openssl ecparam -name prime256v1 -genkey -noout -out $n.key
    openssl req -new -key $n.key -subj "/CN=$n.gw.example" -out $n.csr 2>/dev/null
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=URI:spiffe://east.example/gw/%s,DNS:svc-a.mesh.example\n' $n > $n.ext
    openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 30 -extfile $n.ext -out $n.crt 2>/dev/null
    cat $n.crt $n.key > $n.pem
  done
)
cat > "$W/haproxy-ingress.cfg" <<CFG
global
  maxconn 8000
  ssl-default-bind-options ssl-min-ver TLSv1.3
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend ingress
  bind 127.0.0.1:18443 ssl crt $W/certs/ingress.pem ca-file $W/certs/ca.crt verify required
  tcp-request content reject unless { ssl_c_s_dn(CN) -m str egress.gw.example }
  tcp-request content reject unless { ssl_fc_sni -i svc-a.mesh.example }
  default_backend backend
backend backend
  server b1 127.0.0.1:18080
CFG
cat > "$W/haproxy-egress.cfg" <<CFG
global
  maxconn 8000
  ssl-default-server-options ssl-min-ver TLSv1.3
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend egress
  bind 127.0.0.1:18001
  default_backend mtls
frontend egress_full
  bind 127.0.0.1:18002
  default_backend mtls_full
backend mtls
  server ing 127.0.0.1:18443 ssl crt $W/certs/egress.pem ca-file $W/certs/ca.crt verify required sni str(svc-a.mesh.example) verifyhost svc-a.mesh.example
backend mtls_full
  server ing 127.0.0.1:18443 ssl crt $W/certs/egress.pem ca-file $W/certs/ca.crt verify required sni str(svc-a.mesh.example) verifyhost svc-a.mesh.example no-ssl-reuse
CFG
haproxy -q -db -f "$W/haproxy-ingress.cfg" & PIDS+=($!); H_INGRESS=$!
haproxy -q -db -f "$W/haproxy-egress.cfg" & PIDS+=($!); H_EGRESS=$!

# ---- meshfed pair -------------------------------------------------------------------------------------------
export MESHFED_HOME="$W/home"
java -jar "$CONTROLLER_JAR" init --controller 127.0.0.1:25012 --data-dir "$W/controller" >"$W/logs/init.log" 2>&1
java -jar "$CONTROLLER_JAR" --data-dir "$W/controller" --listen 127.0.0.1:25012 --http-listen 127.0.0.1:25014 \
  >"$W/logs/controller.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 120); do grep -q "meshfed controller ready" "$W/logs/controller.log" && break; sleep 0.5; done
java -cp "$BENCH_JAR" io.meshfed.bench.GatewayBenchSetup "$W" 127.0.0.1:25012 127.0.1.1:25443 127.0.2.1:25443 \
  127.0.0.1:18080 >"$W/logs/setup.log" 2>&1 || die "setup failed: $(tail -3 "$W/logs/setup.log")"
gateway() { # net prefix
  MESHFED_JOIN_TOKEN="$(cat "$W/$1.token")" java ${GATEWAY_JAVA_OPTS:-} -jar "$GATEWAY_JAR" --controller 127.0.0.1:25012 \
    --member "$1" --name "$1-gw" --state-dir "$W/$1-gw" --listen "$2.1:25443" --http-listen "$2.1:25021" \
    --outbound-bind "$2.1" >"$W/logs/$1-gateway.log" 2>&1 &
}
gateway east 127.0.1; M_EAST=$!; PIDS+=($M_EAST)
gateway west 127.0.2; M_WEST=$!; PIDS+=($M_WEST)
PORT=""
for _ in $(seq 1 120); do
  PORT=$(java -jar "$CLI_JAR" services -o json 2>/dev/null | grep -o '"listenPort": [0-9]*' | head -n 1 | grep -o '[0-9]*$' || true)
  [ -n "$PORT" ] && curl -sf "http://127.0.2.1:$PORT/" >/dev/null 2>&1 && break
  sleep 0.5
done
[ -n "$PORT" ] || die "the meshfed pair did not come up; logs in $W/logs"

declare -A URL=( [D]="http://127.0.0.1:18080/" [H]="http://127.0.0.1:18001/" [M]="http://127.0.2.1:$PORT/"
                 [D-close]="http://127.0.0.1:18080/" [H-close]="http://127.0.0.1:18001/"
                 [H-close-full]="http://127.0.0.1:18002/" [M-close]="http://127.0.2.1:$PORT/" )
declare -A PROCS=( [D]="" [H]="$H_EGRESS $H_INGRESS" [M]="$M_WEST $M_EAST" [D-close]="" [H-close]="$H_EGRESS $H_INGRESS"
                   [H-close-full]="$H_EGRESS $H_INGRESS" [M-close]="$M_WEST $M_EAST" )
ORDER=(D H M D-close H-close H-close-full M-close)
for t in "${ORDER[@]}"; do
  body=$(curl -sf "${URL[$t]}") || die "$t (${URL[$t]}) does not answer"
  [ ${#body} -eq 63 ] || die "$t answered an unexpected body: $body"
done

cpu_ticks() { local total=0 p; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $total; }
HZ=$(getconf CLK_TCK)
say "warming up (JIT) for 10 s per target"
for t in M M-close H; do
  hdr=(); [[ $t == *-close* ]] && hdr=(-H "Connection: close")
  wrk -t2 -c16 -d10s "${hdr[@]}" "${URL[$t]}" >/dev/null
done

echo "round,target,connections,rps,p50_ms,p99_ms,cpu_us_per_req" > "$W/results.csv"
for r in $(seq 1 "$ROUNDS"); do
  for c in $CONNS; do
    for t in "${ORDER[@]}"; do
      hdr=(); [[ $t == *-close* ]] && hdr=(-H "Connection: close")
      before=$(cpu_ticks ${PROCS[$t]})
      out="$W/raw/$r-$t-$c.txt"
      wrk -t2 -c"$c" -d"${DURATION}s" --latency "${hdr[@]}" "${URL[$t]}" > "$out"
      after=$(cpu_ticks ${PROCS[$t]})
      rps=$(awk '/Requests\/sec/ {print $2}' "$out")
      total=$(awk '/requests in/ {print $1}' "$out")
      p50=$(awk '$1=="50%" {print $2}' "$out"); p99=$(awk '$1=="99%" {print $2}' "$out")
      ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v+0 } else { sub(/s$/,"",v); print v*1000 } }'; }
      cpu=$(awk -v a="$after" -v b="$before" -v n="$total" -v hz="$HZ" 'BEGIN { if (n > 0) printf "%.1f", (a-b)*1e6/hz/n; else print "" }')
      [ -n "${PROCS[$t]}" ] || cpu=""
      echo "$r,$t,$c,$rps,$(ms "$p50"),$(ms "$p99"),$cpu" >> "$W/results.csv"
      say "round $r c=$c $t: $rps req/s, p50 $p50, p99 $p99${cpu:+, proxy CPU $cpu us/req}"
      errors=$(grep -c "Non-2xx\|Socket errors" "$out" || true)
      [ "$errors" = 0 ] || say "  (wrk reported errors: $(grep "Non-2xx\|Socket errors" "$out" | tr '\n' ' '))"
    done
  done
done

# ---- summary: medians over rounds, ratios to direct (same mode) and to HAProxy (same mode) --------------------
awk -F, 'NR > 1 { k=$2","$3; n[k]++; rps[k, n[k]]=$4; p50[k, n[k]]=$5; p99[k, n[k]]=$6; cpu[k, n[k]]=$7 }
  function med(a, k, cnt,   i, j, t, v) { for (i=1;i<=cnt;i++) v[i]=a[k,i]; for (i=1;i<=cnt;i++) for (j=i+1;j<=cnt;j++) if (v[j]+0<v[i]+0) { t=v[i]; v[i]=v[j]; v[j]=t }
    return cnt % 2 ? v[(cnt+1)/2] : (v[cnt/2] + v[cnt/2+1]) / 2 }
  END {
    print "| target | c | req/s | p50 ms | p99 ms | proxy CPU us/req | vs direct | vs HAProxy |"
    print "|---|---|---|---|---|---|---|---|"
    split("D H M D-close H-close H-close-full M-close", order, " ")
    nc=split("'"$CONNS"'", conns, " ")
    for (ci=1; ci<=nc; ci++) for (oi=1; oi<=7; oi++) {
      t=order[oi]; c=conns[ci]; k=t","c; if (!(k in n)) continue
      d="D,"c; h="H,"c; if (index(t, "-close") > 0) { d="D-close,"c; h="H-close,"c }
      r=med(rps,k,n[k]); rd=med(rps,d,n[d]); rh=med(rps,h,n[h])
      cpucol="-"; if (substr(t,1,1) != "D") cpucol=sprintf("%.0f", med(cpu,k,n[k]))
      hcol="-"; if (substr(t,1,1) != "D") hcol=sprintf("%.2f", r/rh)
      printf "| %s | %s | %.0f | %.2f | %.2f | %s | %.2f | %s |\n", t, c, r, med(p50,k,n[k]), med(p99,k,n[k]), cpucol, r/rd, hcol
    }
  }' "$W/results.csv" | tee "$W/summary.md"
say "results: $W/results.csv, $W/summary.md, raw wrk output in $W/raw, logs in $W/logs"
