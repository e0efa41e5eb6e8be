#!/usr/bin/env bash
# User-space instructions per TLS handshake (issue 17), counted by valgrind's callgrind: unlike CPU time, the count does
# not depend on the machine's load, so it compares servers on a busy machine. It counts no kernel time (system calls,
# wake-ups) and no cache misses: read it beside tls.sh's CPU figures, not instead of them.
#
#   MEANWHILE=DIR/MeanwhileHello [BEFORE=...] [DIRECT=DIR/OpenSslHello] bash bench/server/tls_instructions.sh
#
# Each server (and nginx, one process: master_process off) runs under callgrind; after 30 warm-up handshakes the
# counters are zeroed, N sequential resumed handshakes with one request each are made (tls_client.py), then N/2 full
# ones. Binaries must be Native AOT publishes without their .dbg beside them (valgrind cannot read it): the script
# copies each binary alone into a temporary directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
N="${N:-200}"; PORT_BASE="${PORT_BASE:-22300}"
work="$(mktemp -d)"; chmod 755 "$work"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 7 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

count() { # name port command...: prints resumed and full instructions per handshake
  local name=$1 port=$2; shift 2
  valgrind --tool=callgrind --callgrind-out-file="$work/cg-$name.out" "$@" > "$work/vg-$name.log" 2>&1 &
  local vp=$!
  for _ in $(seq 120); do curl -sk "https://127.0.0.1:$port/" --max-time 5 >/dev/null 2>&1 && break; sleep 1; done
  python3 "$here/tls_client.py" "$port" 30 resume >/dev/null
  callgrind_control -z "$vp" >/dev/null 2>&1
  local reused; reused=$(python3 "$here/tls_client.py" "$port" "$N" resume)
  callgrind_control -d "$vp" >/dev/null 2>&1
  local resumed; resumed=$(awk '/^summary:/ {print $2}' "$work/cg-$name.out.1")
  callgrind_control -z "$vp" >/dev/null 2>&1
  python3 "$here/tls_client.py" "$port" $((N / 2)) new >/dev/null
  callgrind_control -d "$vp" >/dev/null 2>&1
  local full; full=$(awk '/^summary:/ {print $2}' "$work/cg-$name.out.2")
  printf '  %-16s resumed %9d instructions/handshake (%s)   full %9d instructions/handshake\n' "$name" $((resumed / N)) "$reused" $((full / (N / 2)))
  kill "$vp"; wait "$vp" 2>/dev/null || true
}

copy() { mkdir -p "$work/$1"; cp "$2" "$work/$1/"; echo "$work/$1/$(basename "$2")"; }
echo "== callgrind, $N resumed + $((N / 2)) full handshakes each; $(uptime)"
cat > "$work/nginx.conf" <<CONF
daemon off;
master_process off;
error_log $work/nginx-error.log warn;
pid $work/nginx.pid;
events { worker_connections 1000; }
http {
  access_log off;
  client_body_temp_path $work;
  default_type text/plain;
  ssl_session_cache shared:SSL:10m;
  ssl_session_tickets on;
  server {
    listen 127.0.0.1:$((PORT_BASE + 3)) ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "Hello, World!"; }
  }
}
CONF
tls=(--loops 1 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem")
count meanwhile "$PORT_BASE" "$(copy meanwhile "${MEANWHILE:?MEANWHILE=path to a Native AOT MeanwhileHello}")" --port "$PORT_BASE" "${tls[@]}" &
[ -n "${BEFORE:-}" ] && count meanwhile-before $((PORT_BASE + 1)) "$(copy before "$BEFORE")" --port $((PORT_BASE + 1)) "${tls[@]}" &
[ -n "${DIRECT:-}" ] && count openssl-direct $((PORT_BASE + 2)) "$(copy direct "$DIRECT")" --port $((PORT_BASE + 2)) "${tls[@]}" &
count nginx $((PORT_BASE + 3)) nginx -p "$work" -c "$work/nginx.conf" &
wait
