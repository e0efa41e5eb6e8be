#!/usr/bin/env bash
# System calls per proxied "Hello, World!" (issue 21), counted by `strace -f -c` attached to each proxy while wrk runs:
# the kernel half of the proxy's CPU, compared with nginx proxy_pass (keep-alive 64) on the same upstream. Counts, not
# times (strace slows every call); they do not depend on the machine's load, apart from epoll_wait's batching.
#
#   TOOL=DIR/meanwhile [BASELINE=DIR2/meanwhile] [SECS=4] [CONNS=64] [KEEP=prefix] bash bench/proxy_syscalls.sh
#
# The upstream is a plain nginx; each proxy runs on core 0 (one process, no master), wrk on core 1; after a 2 s warm-up
# strace attaches, wrk runs SECS seconds, strace detaches: calls over the requests wrk completed. Ports 27300-27309.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SECS="${SECS:-4}" CONNS="${CONNS:-64}" UP=27300
work="$(mktemp -d)"; chmod 755 "$work"
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.5; rm -rf "$work"' EXIT
mkdir -p "$work/html"; printf 'Hello, World!' > "$work/html/hello"
# shellcheck source=lib/proxy_nginx.sh
. "$here/lib/proxy_nginx.sh"
nginx_conf() { proxy_nginx_conf "$1" "$2" "$3" $'master_process off;\nevents { worker_connections 4000; }'; }
nginx_conf upstream "$UP" "root $work/html;"
taskset -c 0 nginx -p "$work" -c "$work/upstream.conf" > "$work/upstream.log" 2>&1 &
load() { taskset -c 1 wrk -t1 -c"$CONNS" -d"$2s" "http://127.0.0.1:$1/hello" | awk '/requests in/ {print $1}'; }
count() { # name port command...
  local name=$1 port=$2; shift 2
  taskset -c 0 "$@" > "$work/$name.log" 2>&1 &
  local p=$!
  for _ in $(seq 100); do [ "$(curl -s "http://127.0.0.1:$port/hello" --max-time 5 2>/dev/null)" = "Hello, World!" ] && break; sleep 0.2; done
  load "$port" 2 > /dev/null
  strace -f -c -o "$work/st-$name" -p "$p" 2> /dev/null & local sp=$!
  sleep 1
  local n; n=$(load "$port" "$SECS")
  kill -INT "$sp"; wait "$sp" 2>/dev/null || true
  echo "== $name: $n requests"
  awk -v n="$n" 'NR > 2 && $NF != "total" && $1 !~ /^-/ { printf "  %-14s %7.3f per request (%s calls, %s errors)\n", $NF, $4 / n, $4, (NF == 6 ? $5 : 0) }' "$work/st-$name"
  [ -n "${KEEP:-}" ] && cp "$work/st-$name" "$KEEP-$name.txt"
  kill "$p"; wait "$p" 2>/dev/null || true
}
args=(--to "http://127.0.0.1:$UP" --loops 1 --quiet)
count meanwhile $((UP + 1)) "${TOOL:?TOOL=path to a meanwhile}" proxy --port $((UP + 1)) "${args[@]}"
[ -n "${BASELINE:-}" ] && count baseline $((UP + 2)) "$BASELINE" proxy --port $((UP + 2)) "${args[@]}"
nginx_conf proxy $((UP + 3)) 'location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }'
count nginx $((UP + 3)) nginx -p "$work" -c "$work/proxy.conf"
