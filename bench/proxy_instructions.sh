#!/usr/bin/env bash
# User-space instructions per proxied "Hello, World!" (issue 21), counted by valgrind's callgrind: unlike CPU time the
# count does not depend on the machine's load, so it compares builds (and nginx proxy_pass) on a busy machine. It counts
# no kernel time (the system calls are the same in number: see proxy.sh) and no cache misses: read it beside proxy.sh's
# CPU figures, not instead of them.
#
#   TOOL=DIR/meanwhile [BASELINE=DIR2/meanwhile] [NGINX=1] [SECS=10] [WARMUP=5] [CONNS=64] bash bench/proxy_instructions.sh
#   EXTRA="--no-diagnostics" ...   # arguments added to every meanwhile proxy command line
#
# The upstream is a plain nginx (not counted); each proxy runs under callgrind on core 0, one at a time, loaded by wrk
# on core 1 (CONNS connections, keep-alive); after a warm-up of WARMUP seconds the counters are zeroed, wrk runs SECS
# seconds, and the counters are dumped: instructions over the requests wrk completed. Binaries must be Native AOT publishes; each is copied alone into a
# temporary directory (valgrind cannot read the .dbg beside it). Ports 27200-27209 (the proxy's range).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SECS="${SECS:-10}" WARMUP="${WARMUP:-5}" CONNS="${CONNS:-64}" UP=27200
work="$(mktemp -d)"; chmod 755 "$work"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/html"; printf 'Hello, World!' > "$work/html/hello"
# shellcheck source=lib/proxy_nginx.sh
. "$here/lib/proxy_nginx.sh"
# One process (no master): callgrind follows the process it starts.
nginx_conf() { proxy_nginx_conf "$1" "$2" "$3" $'master_process off;\nevents { worker_connections 4000; }'; }
nginx_conf upstream "$UP" "root $work/html;"
taskset -c 0 nginx -p "$work" -c "$work/upstream.conf" > "$work/upstream.log" 2>&1 &

load() { # port seconds: prints the requests wrk completed
  taskset -c 1 wrk -t1 -c"$CONNS" -d"$2s" "http://127.0.0.1:$1/hello" | awk '/requests in/ {print $1}'
}

count() { # name port command...: prints instructions per request
  local name=$1 port=$2; shift 2
  taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$work/cg-$name.out" "$@" > "$work/vg-$name.log" 2>&1 &
  local vp=$!
  for _ in $(seq 240); do [ "$(curl -s "http://127.0.0.1:$port/hello" --max-time 5 2>/dev/null)" = "Hello, World!" ] && break; sleep 0.5; done
  load "$port" "$WARMUP" > /dev/null
  callgrind_control -z "$vp" > /dev/null 2>&1
  local done_; done_=$(load "$port" "$SECS")
  callgrind_control -d "$vp" > /dev/null 2>&1
  local total; total=$(awk '/^summary:/ {print $2}' "$work/cg-$name.out.1")
  printf '  %-12s %9d instructions per request (%s requests)\n' "$name" $((total / done_)) "$done_"
  [ -n "${KEEP:-}" ] && cp "$work/cg-$name.out.1" "$KEEP-$name.out"
  kill "$vp"; wait "$vp" 2>/dev/null || true
}
copy() { mkdir -p "$work/$1"; cp "$2" "$work/$1/"; echo "$work/$1/$(basename "$2")"; }
proxy_args=(--to "http://127.0.0.1:$UP" --loops 1 --quiet ${EXTRA:-})
echo "== callgrind, proxied hellos for ${SECS}s each over $CONNS connections; $(uptime)"
count meanwhile $((UP + 1)) "$(copy meanwhile "${TOOL:?TOOL=path to a Native AOT meanwhile}")" proxy --port $((UP + 1)) "${proxy_args[@]}"
[ -n "${BASELINE:-}" ] && count baseline $((UP + 2)) "$(copy baseline "$BASELINE")" proxy --port $((UP + 2)) "${proxy_args[@]}"
if [ "${NGINX:-1}" = 1 ]; then
  nginx_conf proxy $((UP + 3)) 'location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }'
  count nginx $((UP + 3)) nginx -p "$work" -c "$work/proxy.conf"
fi
