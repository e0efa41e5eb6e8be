#!/usr/bin/env bash
# Memory per idle keep-alive HTTP connection with 10,000 open (issue 4): each server answers one GET on each of
# 10,000 connections, which then stay open and idle; the server process's RSS growth per connection is reported.
# Servers: Meanwhile.Http.Server (epoll and portable; bench/server/MeanwhileHello) and nginx with 1 worker.
#   bench/server/idle.sh            # COUNT=10000 ARTIFACTS=/tmp/serverbench-artifacts REACTORS="epoll portable" NGINX=1
# The Meanwhile rows also report the live managed heap per connection (GET /_heap) and RSS after a full collection.
# DOTNET_* variables (GC settings) reach the Meanwhile server as usual. BASELINE=DIR measures DIR's own
# bench/server/MeanwhileHello too (another checkout, e.g. `git worktree add /tmp/before main`), right after ours, on
# the same reactors: a before/after comparison in one run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ARTIFACTS="${ARTIFACTS:-/tmp/serverbench-artifacts}"
COUNT="${COUNT:-10000}"
ulimit -n "$(ulimit -Hn)"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
dotnet build -c Release --artifacts-path "$ARTIFACTS" "$here/MeanwhileHello" -nologo -v q | grep -E " error |rror\(s\)" || true
mw="$ARTIFACTS/bin/MeanwhileHello/release/MeanwhileHello"
builds=("$mw")
if [ -n "${BASELINE:-}" ]; then
  dotnet build -c Release --artifacts-path "$ARTIFACTS-baseline" "$BASELINE/bench/server/MeanwhileHello" -nologo -v q | grep -E " error |rror\(s\)" || true
  builds+=("$ARTIFACTS-baseline/bin/MeanwhileHello/release/MeanwhileHello")
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

measure() { # label port pid [idle_http.py options]
  local label=$1 port=$2 pid=$3; shift 3
  taskset -c 1 python3 "$here/idle_http.py" --label "$label" --port "$port" --pid "$pid" --count "$COUNT" "$@"
}

for reactor in ${REACTORS:-epoll portable}; do
  for build in "${builds[@]}"; do
    label="meanwhile-$reactor"
    [ "$build" = "$mw" ] || label="meanwhile-before-$reactor"
    port=$(free_port)
    MEANWHILE_REACTOR=$reactor taskset -c 0 "$build" --port "$port" --loops 1 > "$work/$label.log" 2>&1 &
    pid=$!; pids+=("$pid")
    wait_port "$port"
    measure "$label" "$port" "$pid" --heap-path /_heap
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done

[ "${NGINX:-1}" = 1 ] || exit 0
port=$(free_port)
cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
error_log $work/nginx-error.log warn;
pid $work/nginx.pid;
worker_rlimit_nofile 20000;
events { worker_connections 16000; }
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_body_temp_path $work;
  default_type text/plain;
  server { listen 127.0.0.1:$port; location / { return 200 "Hello, World!"; } }
}
CONF
taskset -c 0 nginx -p "$work" -c "$work/nginx.conf" > "$work/nginx.log" 2>&1 &
master=$!; pids+=("$master")
wait_port "$port"
worker=$(pgrep -P "$master" | head -n 1)
measure "nginx" "$port" "$worker"
