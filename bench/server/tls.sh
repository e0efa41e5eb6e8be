#!/usr/bin/env bash
# HTTPS server benchmark (issue 17): Meanwhile.Http.Server over TLS against nginx (ssl, 1 worker) and Kestrel HTTPS, in
# one run, with the same ECDSA P-256 certificate for all; every server pinned to core 0, every client to core 1.
#
#   bench/server/tls.sh       # ROUNDS=3 SECONDS_PER_RUN=5 WARMUP=20 CONNS=64 COUNT=10000 PORT_BASE=22100 IDLE=1
#
# Per round, servers alternated:
#   keepalive  LOAD (httpload, default, or wrk; bench/load/load.sh) with 64 connections over https (keep-alive): req/s,
#              server CPU (user+system) per request, and the client's share of its core (near 100 %: the client is the
#              limit, not the server; wrk was, at ~20 us per request: httpload needs ~14)
#   full       wrk -t1 -c64 -H 'Connection: close' (whatever LOAD): one request per connection, so one full TLS 1.3 handshake each
#              (wrk resumes no session), handshakes/s and server CPU per handshake
#   resumed    openssl s_time -reuse (one client, sequential): resumed TLS 1.3 handshakes with one GET each, per second
# KEEPALIVE_ONLY=1 skips the full and resumed handshakes. At the end: medians of per-round keep-alive ratios.
# Then (IDLE=1) memory per idle TLS keep-alive connection with COUNT open (idle_tls.py: RSS growth of the server).
# Raw lines go to stdout; uptime is printed with each round (the machine may be shared: compare ratios, not absolutes).
# BEFORE=/path/to/MeanwhileHello (another version's build of bench/server/MeanwhileHello) adds it as "meanwhile-before",
# measured in the same rounds: a change's before and after. MEANWHILE=/path/to/MeanwhileHello measures that build as
# "meanwhile" instead of building one (e.g. two Native AOT publishes:
#   dotnet publish bench/server/MeanwhileHello -c Release -r linux-x64 -p:PublishAot=true -o DIR).
# DIRECT=/path/to/OpenSslHello adds the prototype with OpenSSL called on the descriptor (bench/server/OpenSslHello,
# published the same way) as "openssl-direct".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ROUNDS="${ROUNDS:-3}"; SECONDS_PER_RUN="${SECONDS_PER_RUN:-5}"; CONNS="${CONNS:-64}"; COUNT="${COUNT:-10000}"
PORT_BASE="${PORT_BASE:-22100}"; ARTIFACTS="${ARTIFACTS:-/tmp/bench-artifacts-tls}"
SERVERS="${SERVERS:-meanwhile nginx kestrel}"
[ -n "${BEFORE:-}" ] && SERVERS="$SERVERS meanwhile-before"
[ -n "${DIRECT:-}" ] && SERVERS="$SERVERS openssl-direct"
work="$(mktemp -d)"; chmod 755 "$work"
declare -A pid port
cleanup() { for s in "${!pid[@]}"; do kill "${pid[$s]}" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

source "$here/../load/load.sh"
echo "== build (Release, $ARTIFACTS; load client $LOAD)"
load_init "$ARTIFACTS"
MEANWHILE="${MEANWHILE:-$ARTIFACTS/bin/MeanwhileHello/release/MeanwhileHello}"
for p in MeanwhileHello KestrelHello; do
  [ "$p" = MeanwhileHello ] && [ "$MEANWHILE" != "$ARTIFACTS/bin/MeanwhileHello/release/MeanwhileHello" ] && continue
  [ "$p" = KestrelHello ] && [[ " $SERVERS " != *" kestrel "* ]] && continue
  dotnet build -c Release --artifacts-path "$ARTIFACTS" "$here/$p" -nologo -v q | grep -E " error |rror\(s\)" || true
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 7 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

i=0
for s in $SERVERS; do
  port[$s]=$((PORT_BASE + i)); i=$((i + 1))
  case "$s" in
    meanwhile) taskset -c 0 env -u MEANWHILE_REACTOR "$MEANWHILE" --port "${port[$s]}" --loops 1 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/$s.log" 2>&1 & ;;
    openssl-direct) taskset -c 0 env -u MEANWHILE_REACTOR "$DIRECT" --port "${port[$s]}" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/$s.log" 2>&1 & ;;
    meanwhile-before) taskset -c 0 env -u MEANWHILE_REACTOR "$BEFORE" --port "${port[$s]}" --loops 1 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/$s.log" 2>&1 & ;;
    kestrel) taskset -c 0 "$ARTIFACTS/bin/KestrelHello/release/KestrelHello" --port "${port[$s]}" --mode raw --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/$s.log" 2>&1 & ;;
    nginx)
      cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
worker_rlimit_nofile 30000;
error_log $work/nginx-error.log warn;
pid $work/nginx.pid;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_body_temp_path $work;
  default_type text/plain;
  ssl_session_cache shared:SSL:10m;
  ssl_session_tickets on;
  server {
    listen 127.0.0.1:${port[nginx]} ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "Hello, World!"; }
  }
}
CONF
      taskset -c 0 nginx -p "$work" -c "$work/nginx.conf" > "$work/nginx.log" 2>&1 & ;;
    *) echo "unknown server $s" >&2; exit 1 ;;
  esac
  pid[$s]=$!
done
for s in $SERVERS; do
  for _ in $(seq 200); do curl -sk -o /dev/null "https://127.0.0.1:${port[$s]}/" && break; sleep 0.1; done
done
worker() { # the process holding connections: nginx's worker, else the server itself
  if [ "$1" = nginx ]; then pgrep -P "${pid[nginx]}" | head -1; else echo "${pid[$1]}"; fi
}

wrk_rps() { # server [extra wrk args] -> "requests req/s"
  local s=$1; shift
  taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" "$@" "https://127.0.0.1:${port[$s]}/" |
    awk '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {print n, r}'
}
keepalive_rps() { # server -> "requests req/s client-core-%" with LOAD
  load_run "$CONNS" "$SECONDS_PER_RUN" "https://127.0.0.1:${port[$1]}/" |
    awk -v d="$SECONDS_PER_RUN" '/requests in/ {n=$1} /Requests\/sec/ {r=$2} /Client CPU seconds/ {c=$4} END {printf "%s %s %.0f\n", n, r, 100 * c / d}'
}

# Long enough for the .NET servers' tiered JIT to finish recompiling the hot path: with a 5 s warm-up it was still
# compiling, on the server's pinned core, inside the measured rounds.
echo "== warm-up (${WARMUP:-20} s each)"
for s in $SERVERS; do
  load_run "$CONNS" "${WARMUP:-20}" "https://127.0.0.1:${port[$s]}/" > /dev/null
  wrk_rps "$s" -H 'Connection: close' >/dev/null
done

declare -A keepalive
for r in $(seq "$ROUNDS"); do
  echo "== round $r/$ROUNDS; $(uptime)"
  for s in $SERVERS; do
    c0=$(python3 "$here/cputicks.py" "${pid[$s]}")
    read -r n rps client < <(keepalive_rps "$s")
    c1=$(python3 "$here/cputicks.py" "${pid[$s]}")
    cpu_us=$(python3 -c "print(round(($c1 - $c0) * 1e6 / max($n, 1), 1))")
    server_core=$(python3 -c "print(round(($c1 - $c0) * 100 / $SECONDS_PER_RUN))")
    keepalive[$s]+="$rps "
    full=- full_cpu=- resumed=- resumed_cpu=-
    if [ "${KEEPALIVE_ONLY:-0}" != 1 ]; then
    c0=$(python3 "$here/cputicks.py" "${pid[$s]}")
    read -r nfull full < <(wrk_rps "$s" -H 'Connection: close')
    c1=$(python3 "$here/cputicks.py" "${pid[$s]}")
    full_cpu=$(python3 -c "print(round(($c1 - $c0) * 1e6 / max($nfull, 1)))")
    t0=$(date +%s.%N); c0=$(python3 "$here/cputicks.py" "${pid[$s]}")
    n=$(taskset -c 1 openssl s_time -connect "127.0.0.1:${port[$s]}" -reuse -www / -time "$SECONDS_PER_RUN" 2>/dev/null |
      awk '/connections in .* real seconds/ {print $1; exit}')
    c1=$(python3 "$here/cputicks.py" "${pid[$s]}")
    resumed=$(python3 -c "print(round(${n:-0} / ($(date +%s.%N) - $t0)))")
    # One sequential client: the rate is mostly latency (both ends' wake-ups); the server's CPU per handshake is its cost.
    resumed_cpu=$(python3 -c "print(round(($c1 - $c0) * 1e6 / max(${n:-0}, 1)))")
    fi
    printf '  %-16s keepalive %10s req/s  cpu %6s us/req  cores: server %3s%% client %3s%%  full-handshakes %8s /s  %5s us cpu/full  resumed %6s /s  %5s us cpu/resumed\n' "$s" "$rps" "$cpu_us" "$server_core" "$client" "$full" "$full_cpu" "${resumed:-?}" "$resumed_cpu"
  done
done

# Keep-alive: medians of the per-round ratios meanwhile / each other server.
for s in $SERVERS; do
  [ "$s" = meanwhile ] && continue
  python3 -c "import statistics, sys; m, o = (list(map(float, a.split())) for a in sys.argv[1:3]); r = sorted(x / y for x, y in zip(m, o)); print(f'keepalive meanwhile / {sys.argv[3]}: median {statistics.median(r):.2f}x  rounds {r[0]:.2f}-{r[-1]:.2f}')" "${keepalive[meanwhile]}" "${keepalive[$s]}" "$s"
done

[ "${IDLE:-1}" = 1 ] || exit 0
echo "== idle TLS connections ($COUNT open); $(uptime)"
for s in $SERVERS; do
  taskset -c 1 python3 "$here/idle_tls.py" --label "$s" --port "${port[$s]}" --pid "$(worker "$s")" --count "$COUNT"
done
