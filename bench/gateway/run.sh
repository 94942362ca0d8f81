#!/usr/bin/env bash
# Gateway pair benchmark: wrk on loopback, in the same rounds, against
#   D  direct to the backend (nginx, fixed 64-byte 200)
#   H  an HAProxy mTLS gateway pair (egress: plain in, TLS 1.3 + client cert out; ingress: verify, authorize, SNI route)
#   M  a meshfed east-west gateway pair by SNI (west outbound listener -> one mTLS connection per downstream
#      connection -> east's SNI listener -> backend; east has no tunnel listener)
#   T  a meshfed pair through the tunnel (west-t outbound listener -> one HTTP/2 CONNECT stream per downstream
#      connection on west-t's pooled mTLS connections -> east-t's tunnel listener -> backend)
# each with keep-alive and with a new connection per request (Connection: close; H-full also refuses TLS resumption),
# at 16 and 64 connections. Reports requests/s, p50/p99 and proxy CPU us per request, and ratios to D and H; checks
# on the senders' /metrics that T tunnels (streams grow, connections within the pool) and M does not; then the first
# run of T after its gateways started (before the warm-up) against the warm T, and a 1 GiB transfer through each.
# Self-contained: needs haproxy, nginx, wrk, openssl, curl, jq (installed with apt-get when run as root) and JDK 17 +
# Maven. BENCH_JFR=1 also records JFR profiles of T's two gateways (the warm-up and rounds; the bulk transfers) and
# prints their top frames.
# Usage: bench/gateway/run.sh [-d SECONDS] [-r ROUNDS] [-c "16 64"]     (defaults: -d 10 -r 2; about 10 minutes)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
W="${BENCH_WORK:-/tmp/meshfed-gwbench}"
source "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need haproxy nginx wrk openssl curl jq
GATEWAY_JAR="$ROOT/east-west-gateway/target/meshfed-gateway.jar"
bench_build bench:bench/target/benchmarks.jar east-west-gateway:east-west-gateway/target/meshfed-gateway.jar \
  federation-controller:federation-controller/target/meshfed-controller.jar cli:cli/target/meshfed-cli.jar
rm -rf "$W"; mkdir -p "$W/certs" "$W/logs" "$W/raw" "$W/www/bulk"
BULK_BYTES=1073741824
truncate -s "$BULK_BYTES" "$W/www/bulk/1g.bin"   # sparse: nginx sends it from the page cache

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

# ---- meshfed pairs: M by SNI (east has no tunnel listener), T through the tunnel (east-t listens on 15008) ----------
TUNNEL_POOL=4
start_federation 127.0.3.1:25443 127.0.3.1:15008 127.0.4.1:25443
gateway() { # network address-prefix [gateway flags...]
  local net=$1 pre=$2; shift 2
  MESHFED_JOIN_TOKEN="$(cat "$W/$net.token")" java ${GATEWAY_JAVA_OPTS:-} -jar "$GATEWAY_JAR" \
    --controller 127.0.0.1:25012 --member "$net" --name "$net-gw" --state-dir "$W/$net-gw" --listen "$pre.1:25443" \
    --http-listen "$pre.1:25021" --outbound-bind "$pre.1" "$@" >"$W/logs/$net-gateway.log" 2>&1 &
}
gateway east 127.0.1 --tunnel-listen none; M_EAST=$!; PIDS+=($M_EAST)
gateway west 127.0.2 --tunnel-listen none; M_WEST=$!; PIDS+=($M_WEST)
gateway east-t 127.0.3 --tunnel-listen 127.0.3.1:15008; T_EAST=$!; PIDS+=($T_EAST)
gateway west-t 127.0.4 --tunnel-pool-size "$TUNNEL_POOL"; T_WEST=$!; PIDS+=($T_WEST)
# listen_port SERVICE: the outbound listen port of SERVICE.demo's first port (empty until allocated).
listen_port() {
  java -jar "$CLI_JAR" services -o json 2>/dev/null \
    | jq -r --arg s "$1" '.services[]? | select(.name == $s) | .outboundPorts[0].listenPort // empty' 2>/dev/null || true
}
PORT="" TPORT=""
for _ in $(seq 1 120); do
  [ -n "$PORT" ] || PORT=$(listen_port hello)
  [ -n "$TPORT" ] || TPORT=$(listen_port hello-t)
  [ -n "$PORT" ] && [ -n "$TPORT" ] && curl -sf "http://127.0.2.1:$PORT/" >/dev/null 2>&1 \
    && curl -sf "http://127.0.4.1:$TPORT/" >/dev/null 2>&1 && break
  sleep 0.5
done
{ [ -n "$PORT" ] && [ -n "$TPORT" ]; } || die "the meshfed pairs did not come up; logs in $W/logs"

declare -A URL=( [D]="http://127.0.0.1:18080/" [H]="http://127.0.0.1:18001/" [M]="http://127.0.2.1:$PORT/"
                 [T]="http://127.0.4.1:$TPORT/"
                 [D-close]="http://127.0.0.1:18080/" [H-close]="http://127.0.0.1:18001/"
                 [H-close-full]="http://127.0.0.1:18002/" [M-close]="http://127.0.2.1:$PORT/"
                 [T-close]="http://127.0.4.1:$TPORT/" )
declare -A PROCS=( [D]="" [H]="$H_EGRESS $H_INGRESS" [M]="$M_WEST $M_EAST" [T]="$T_WEST $T_EAST" [D-close]=""
                   [H-close]="$H_EGRESS $H_INGRESS" [H-close-full]="$H_EGRESS $H_INGRESS" [M-close]="$M_WEST $M_EAST"
                   [T-close]="$T_WEST $T_EAST" )
ORDER=(D H M T D-close H-close H-close-full M-close T-close)
for t in "${ORDER[@]}"; do
  body=$(curl -sf "${URL[$t]}") || die "$t (${URL[$t]}) does not answer"
  [ ${#body} -eq 63 ] || die "$t answered an unexpected body: $body"
done

# The senders' counters around every M and T run (before_measure/after_measure, called by measure): the tunnel
# streams and connections each opened, and the client TLS handshakes, into $W/tunnel.csv.
M_ADDR=127.0.2.1:25021 T_ADDR=127.0.4.1:25021
sender_counters() { # HOST:PORT -> "streams_ok streams_all tunnel_connections client_handshakes"
  echo "$(metric "$1" meshfed_tunnel_streams_total 'direction="outbound"' 'result="ok"')" \
    "$(metric "$1" meshfed_tunnel_streams_total 'direction="outbound"')" \
    "$(metric "$1" meshfed_tunnel_connections_total 'direction="outbound"')" \
    "$(metric "$1" meshfed_tls_handshakes_total 'side="client"')"
}
sender_of() { case $1 in M*) echo $M_ADDR ;; T*) echo $T_ADDR ;; esac; }
echo "round,target,connections,requests,streams_ok,streams_all,tunnel_connections,client_handshakes" > "$W/tunnel.csv"
before_measure() { local a; a=$(sender_of "$1"); COUNTERS_BEFORE=""; [ -z "$a" ] || COUNTERS_BEFORE=$(sender_counters "$a"); }
after_measure() {
  local a b i; a=$(sender_of "$2"); [ -n "$a" ] || return 0
  read -r -a b <<< "$COUNTERS_BEFORE"; read -r -a i <<< "$(sender_counters "$a")"
  echo "$1,$2,$3,$4,$((i[0] - b[0])),$((i[1] - b[1])),$((i[2] - b[2])),$((i[3] - b[3]))" >> "$W/tunnel.csv"
}

# ---- cold: T's first measured run after its gateways started, before any warm-up ----------------------------------
C_COLD=${CONNS##* }
say "cold T (first run after start, c=$C_COLD)"
MEASURE_CSV="$W/cold.csv" measure cold T "$C_COLD" "${URL[T]}" "${PROCS[T]}"

# jfr_start NAME / jfr_dump NAME: a JFR recording in both of T's gateways (BENCH_JFR=1), dumped to $W/NAME-PID.jfr.
jfr_start() {
  [ "${BENCH_JFR:-0}" = 1 ] || return 0
  local p; for p in "$T_WEST" "$T_EAST"; do jcmd "$p" JFR.start name="$1" settings=profile >/dev/null || die "cannot start JFR in $p"; done
}
jfr_dump() {
  [ "${BENCH_JFR:-0}" = 1 ] || return 0
  jcmd "$T_WEST" JFR.dump name="$1" filename="$W/$1-sender.jfr" >/dev/null
  jcmd "$T_EAST" JFR.dump name="$1" filename="$W/$1-receiver.jfr" >/dev/null
  local p; for p in "$T_WEST" "$T_EAST"; do jcmd "$p" JFR.stop name="$1" >/dev/null; done
}
jfr_start rounds   # before the warm-up, so that the recording's own start-up cost is not in a measured run
say "warming up (JIT) for 10 s per target"
for t in M M-close T T-close H; do
  hdr=(); [[ $t == *-close* ]] && hdr=(-H "Connection: close")
  wrk -t2 -c16 -d10s "${hdr[@]}" "${URL[$t]}" >/dev/null
done

run_rounds
jfr_dump rounds

# ---- the tunnel checks, per measured run: T tunnels, M does not ----------------------------------------------------
# T: every downstream connection is one tunnel stream (T-close: one per request), on at most the pool's connections.
# M: no tunnel streams or connections; M-close: a client TLS handshake per request (an mTLS connection each).
awk -F, -v pool="$TUNNEL_POOL" 'NR > 1 {
    id = "round " $1 " " $2 " c=" $3 ": " $4 " requests, " $5 " tunnel streams ok (" $6 " in all), " $7 " new tunnel connections, " $8 " client TLS handshakes"
    ok = 1
    if ($2 == "T") ok = $5 >= $3 && $6 == $5 && $7 <= pool
    if ($2 == "T-close") ok = $5 >= $4 && $6 == $5 && $7 <= pool
    if ($2 == "M") ok = $6 == 0 && $7 == 0
    if ($2 == "M-close") ok = $6 == 0 && $7 == 0 && $8 >= $4
    print (ok ? "- ok: " : "- FAILED: ") id }' "$W/tunnel.csv" > "$W/checks.md"
{
  echo "- T's sender in all: $(metric $T_ADDR meshfed_tunnel_connections_total 'direction="outbound"') outbound tunnel connections (pool size $TUNNEL_POOL; one without streams closes after 60 s idle), $(metric $T_ADDR meshfed_tunnel_streams_total 'direction="outbound"' 'result="ok"') streams ok"
} >> "$W/checks.md"
if grep -q FAILED "$W/checks.md"; then CHECKS_OK=0; else CHECKS_OK=1; fi

# ---- bulk: 1 GiB through one connection (D, H, M) or one tunnel stream (T), 3 times each, interleaved ----------------
declare -A BULK=( [D]="http://127.0.0.1:18080" [H]="http://127.0.0.1:18001" [M]="http://127.0.2.1:$PORT"
                  [T]="http://127.0.4.1:$TPORT" )
echo "round,target,mb_per_s,proxy_cpu_s" > "$W/bulk.csv"
jfr_start bulk     # T's gateways carry only T's transfers
for r in 1 2 3; do
  for t in D H M T; do
    # shellcheck disable=SC2086
    before=$(cpu_ticks ${PROCS[$t]})
    out=$(curl -sf -o /dev/null -w '%{speed_download} %{size_download}' "${BULK[$t]}/bulk/1g.bin") \
      || die "bulk transfer through $t failed"
    # shellcheck disable=SC2086
    after=$(cpu_ticks ${PROCS[$t]})
    [ "${out#* }" = "$BULK_BYTES" ] || die "bulk transfer through $t returned ${out#* } bytes, not $BULK_BYTES"
    mbs=$(awk -v b="${out%% *}" 'BEGIN { printf "%.0f", b / 1e6 }')
    cpu=$(awk -v a="$after" -v b="$before" -v hz="$HZ" 'BEGIN { printf "%.2f", (a-b)/hz }')
    echo "$r,$t,$mbs,$cpu" >> "$W/bulk.csv"
    say "bulk round $r $t: $mbs MB/s${PROCS[$t]:+, proxy CPU $cpu s}"
  done
done
jfr_dump bulk

# ---- summary: medians over rounds, ratios to direct (same mode) and to HAProxy (same mode) --------------------
awk -F, "$AWK_COLLECT"'
  '"$AWK_MEDIAN"'
  END {
    print "| target | c | req/s | p50 ms | p99 ms | proxy CPU us/req | vs direct | vs HAProxy |"
    print "|---|---|---|---|---|---|---|---|"
    no=split("D H M T D-close H-close H-close-full M-close T-close", order, " ")
    nc=split("'"$CONNS"'", conns, " ")
    for (ci=1; ci<=nc; ci++) for (oi=1; oi<=no; oi++) {
      t=order[oi]; c=conns[ci]; k=t","c; if (!(k in n)) continue
      d="D,"c; h="H,"c; if (index(t, "-close") > 0) { d="D-close,"c; h="H-close,"c }
      r=med(rps,k,n[k]); rd=med(rps,d,n[d]); rh=med(rps,h,n[h])
      cpucol="-"; if (substr(t,1,1) != "D") cpucol=sprintf("%.0f", med(cpu,k,n[k]))
      hcol="-"; if (substr(t,1,1) != "D") hcol=sprintf("%.2f", r/rh)
      printf "| %s | %s | %.0f | %.2f | %.2f | %s | %.2f | %s |\n", t, c, r, med(p50,k,n[k]), med(p99,k,n[k]), cpucol, r/rd, hcol
    }
  }' "$W/results.csv" > "$W/summary.md"
{
  echo
  IFS=, read -r _ _ _ cold_rps _ cold_p99 _ < "$W/cold.csv"
  awk -F, -v c="$C_COLD" -v crps="$cold_rps" -v cp99="$cold_p99" "$AWK_COLLECT"'
    '"$AWK_MEDIAN"'
    END { k="T,"c; w=med(rps,k,n[k]); printf "Cold start: T at c=%s, its first run after the gateways started %.0f req/s (p99 %.2f ms), warm median %.0f req/s: **%.2f** of warm\n", c, crps, cp99, w, crps/w }
  ' "$W/results.csv"
  echo
  echo "Bulk, 1 GiB through one connection (T: one tunnel stream), median of 3:"
  echo
  echo "| target | MB/s | proxy CPU s | vs M |"
  echo "|---|---|---|---|"
  awk -F, "$AWK_MEDIAN"'
    NR > 1 { n[$2]++; mb[$2, n[$2]]=$3; cpu[$2, n[$2]]=$4 }
    END { m=med(mb,"M",n["M"]); split("D H M T", o, " ")
          for (i=1;i<=4;i++) { t=o[i]; v=med(mb,t,n[t]); printf "| %s | %.0f | %s | %.2f |\n", t, v, (t=="D" ? "-" : sprintf("%.2f", med(cpu,t,n[t]))), v/m } }
  ' "$W/bulk.csv"
  echo
  echo "Tunnel checks (senders' /metrics around each run):"
  echo
  cat "$W/checks.md"
} >> "$W/summary.md"
# top_frames FILE EVENT N: the N most frequent top frames of EVENT's stack traces, with their counts and the total.
top_frames() {
  jfr print --events "$2" "$1" | awk -v n="$3" '
    /stackTrace = \[/ { getline; sub(/^[ \t]+/, ""); sub(/[ \t]+line:.*/, ""); c[$0]++; total++ }
    END { printf "%d samples\n", total; for (f in c) printf "%7d %5.1f%% %s\n", c[f], 100 * c[f] / total, f }' \
    | { read -r head; echo "$head"; sort -rn | head -n "$3"; }
}
for rec in rounds bulk; do
  [ -f "$W/$rec-sender.jfr" ] || continue
  for side in sender receiver; do
    { echo; echo "JFR, T's $side during the $rec (top frames; the rounds' recording includes the warm-up):"; echo; echo '```'
      echo "jdk.ExecutionSample (Java code): $(top_frames "$W/$rec-$side.jfr" jdk.ExecutionSample 15)"
      echo "jdk.NativeMethodSample (in native code): $(top_frames "$W/$rec-$side.jfr" jdk.NativeMethodSample 5)"
      echo '```'; } >> "$W/summary.md"
  done
done
cat "$W/summary.md"
say "results: $W/results.csv, $W/cold.csv, $W/bulk.csv, $W/summary.md, raw wrk output in $W/raw, logs in $W/logs"
[ "$CHECKS_OK" = 1 ] || die "a tunnel check failed (see $W/checks.md): the T and M rows do not measure what they say"
