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
source "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need haproxy nginx wrk openssl curl
GATEWAY_JAR="$ROOT/east-west-gateway/target/meshfed-gateway.jar"
bench_build bench:bench/target/benchmarks.jar east-west-gateway:east-west-gateway/target/meshfed-gateway.jar \
  federation-controller:federation-controller/target/meshfed-controller.jar cli:cli/target/meshfed-cli.jar
rm -rf "$W"; mkdir -p "$W/certs" "$W/logs" "$W/raw"

# ---- backend and HAProxy pair -------------------------------------------------------------------------------
backend_nginx_conf > "$W/nginx.conf"
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
start_federation
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

say "warming up (JIT) for 10 s per target"
for t in M M-close H; do
  hdr=(); [[ $t == *-close* ]] && hdr=(-H "Connection: close")
  wrk -t2 -c16 -d10s "${hdr[@]}" "${URL[$t]}" >/dev/null
done

run_rounds

# ---- summary: medians over rounds, ratios to direct (same mode) and to HAProxy (same mode) --------------------
awk -F, "$AWK_COLLECT"'
  '"$AWK_MEDIAN"'
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
