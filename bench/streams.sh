#!/usr/bin/env bash
# Stream benchmarks of issue 3, in one run:
#   1. TCP echo on one core: messages/s (64 connections ping-ponging 64-byte messages) and throughput (4
#      connections streaming 64 KiB blocks), Meanwhile (epoll and MEANWHILE_REACTOR=portable) against a plain .NET
#      Socket async/await echo server and socat, all driven by the same client (Meanwhile.Benchmarks echo-client).
#   2. Memory per idle open TCP connection with 10,000 open: Meanwhile (a task per connection awaiting a zero-byte
#      read), the .NET Socket equivalent, Python asyncio and Node.js.
#
#   bench/streams.sh              # build Release, run everything REPS times, print medians and ratios
#   REPS=5 bench/streams.sh
#
# The server is pinned to core $SERVER_CPU (0), the client to core $CLIENT_CPU (1); every server is a fresh process
# per repetition, and repetitions are interleaved so that a burst of outside load hits every implementation alike.
# Environment: REPS (3), SERVER_CPU (0), CLIENT_CPU (1), ARTIFACTS (/tmp/bench-artifacts), RESULTS (a file for the
# raw JSON lines), SECONDS_PER_WINDOW (1.5), WINDOWS (3), IDLE_COUNT (10000).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
reps="${REPS:-3}"
scpu="${SERVER_CPU:-0}"
ccpu="${CLIENT_CPU:-1}"
artifacts="${ARTIFACTS:-/tmp/bench-artifacts}"
results="${RESULTS:-$(mktemp -t meanwhile-streams.XXXXXX.jsonl)}"
window="${SECONDS_PER_WINDOW:-1.5}"
windows="${WINDOWS:-3}"
idle_count="${IDLE_COUNT:-10000}"
: > "$results"
work="$(mktemp -d -t meanwhile-streams.XXXXXX)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

need() { command -v "$1" > /dev/null || { echo "streams.sh: '$1' is required ($2)" >&2; exit 1; }; }
need dotnet "the .NET 10 SDK"
need taskset "util-linux"
need python3 "Python 3: the asyncio peer and the summary"
need socat "apt-get install -y socat"
have_node=1
command -v node > /dev/null || { have_node=0; echo "streams.sh: node not found; the Node.js column stays empty" >&2; }

# 10,000 connections need 10,000 descriptors in the server and in the client (plus the usual ones).
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle_count + 100)) ]; then
  echo "streams.sh: RLIMIT_NOFILE hard limit $(ulimit -Hn) is below $((idle_count + 100))" >&2; exit 1
fi

echo "== machine"
echo "nproc:   $(nproc)"
echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "dotnet:  $(dotnet --version)"
[ "$have_node" = 1 ] && echo "node:    $(node --version)"
echo "python3: $(python3 --version 2>&1)"
echo "socat:   $(socat -V | sed -n 's/^socat version \([^ ]*\).*/\1/p')"
echo "nofile:  $(ulimit -n)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
echo "pinned:  servers taskset -c $scpu, clients taskset -c $ccpu; $reps repetitions; raw results in $results"

echo "== build"
dotnet build "$root/bench/Meanwhile.Benchmarks" -c Release --artifacts-path "$artifacts" -nologo -v quiet
dll="$artifacts/bin/Meanwhile.Benchmarks/release/Meanwhile.Benchmarks.dll"
[ -f "$dll" ] || { echo "streams.sh: the build did not produce $dll" >&2; exit 1; }
mw=(dotnet "$dll")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_server <port-file|-> <command...>: starts a pinned server in the background, waits until it listens.
# With a port file the server writes its port there; with "-" the caller put a free port in $port.
start_server() {
  local pf="$1"; shift
  if [ "$pf" != - ]; then rm -f "$pf"; fi
  taskset -c "$scpu" "$@" 2> "$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 300); do
    if [ "$pf" != - ] && [ -s "$pf" ]; then port="$(cat "$pf")"; return 0; fi
    if [ "$pf" = - ] && (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then return 0; fi
    kill -0 "$server_pid" 2> /dev/null || { echo "streams.sh: server '$*' exited" >&2; cat "$work/server.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "streams.sh: server '$*' did not start listening" >&2; exit 1
}

stop_server() {
  kill "$server_pid" 2> /dev/null || true
  wait "$server_pid" 2> /dev/null || true
  server_pid=""
}

client() { # client <label> <mode>: one pinned echo-client run against $port/$server_pid
  local label="$1" mode="$2" line
  printf "  %-30s" "$mode $label"
  line="$(taskset -c "$ccpu" "${mw[@]}" echo-client --port "$port" --mode "$mode" --seconds "$window" --warmup 1 \
    --runs "$windows" --server-pid "$server_pid" --label "$label" --json)"
  echo "$line" >> "$results"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%12.1f %-6s server CPU %4.0f%%  client CPU %4.0f%%" % (d["rate"], d["unit"], 100*d.get("server_cpu",0), 100*d["client_cpu"]))' "$line"
}

echo_round() { # echo_round <label> <port-file|-> <server command...>
  local label="$1" pf="$2"; shift 2
  start_server "$pf" "$@"
  client "$label" pingpong
  client "$label" stream
  stop_server
}

socat_round() {
  # socat forks one process per connection (all on the server core). PIPE (socat echoes through a pipe of its own)
  # is the fastest form for small messages; with 64 KiB blocks it deadlocks (a blocking write into its own full
  # pipe) and with smaller -b it is slower than EXEC:cat, so streaming uses EXEC:cat. nodelay: socat leaves Nagle
  # on, which stalls ping-pong on delayed ACKs (7,000 msg/s).
  port="$(free_port)"
  start_server - socat -b 65536 "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,backlog=511,nodelay" PIPE
  client socat pingpong
  stop_server
  port="$(free_port)"
  start_server - socat -b 65536 "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,backlog=511,nodelay" EXEC:cat
  client socat stream
  stop_server
}

idle_round() { # idle_round <server command...>: the server prints the JSON line once it holds $idle_count connections
  local pf="$work/idle.port" line
  printf "  "
  rm -f "$pf"
  taskset -c "$scpu" "$@" --count "$idle_count" --port-file "$pf" --json > "$work/idle.out" 2> "$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 300); do [ -s "$pf" ] && break; sleep 0.1; done
  [ -s "$pf" ] || { echo "streams.sh: idle server '$*' did not start" >&2; cat "$work/server.err" >&2; exit 1; }
  taskset -c "$ccpu" "${mw[@]}" idle-client --port "$(cat "$pf")" --count "$idle_count"
  wait "$server_pid" || { echo "streams.sh: idle server '$*' failed" >&2; cat "$work/server.err" >&2; exit 1; }
  server_pid=""
  line="$(tail -n 1 "$work/idle.out")"
  echo "$line" >> "$results"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); h=d.get("heap_per_conn"); print("%-24s RSS %7.0f B/conn" % (d["impl"], d["rss_per_conn"]) + ("  heap %6.0f B/conn" % h if h is not None else ""))' "$line"
}

for rep in $(seq 1 "$reps"); do
  echo "== repetition $rep/$reps: echo (load $(cut -d' ' -f1 /proc/loadavg))"
  echo_round meanwhile-epoll "$work/echo.port" "${mw[@]}" echo-server --impl meanwhile --port-file "$work/echo.port"
  echo_round meanwhile-portable "$work/echo.port" env MEANWHILE_REACTOR=portable "${mw[@]}" echo-server --impl meanwhile --port-file "$work/echo.port"
  echo_round dotnet-socket "$work/echo.port" "${mw[@]}" echo-server --impl socket --port-file "$work/echo.port"
  socat_round
  echo "== repetition $rep/$reps: $idle_count idle connections (load $(cut -d' ' -f1 /proc/loadavg))"
  idle_round "${mw[@]}" idle-server --impl meanwhile
  idle_round env MEANWHILE_REACTOR=portable "${mw[@]}" idle-server --impl meanwhile
  idle_round "${mw[@]}" idle-server --impl socket
  idle_round "${mw[@]}" idle-server --impl meanwhile --hold read
  idle_round "${mw[@]}" idle-server --impl meanwhile --hold stream
  idle_round python3 "$here/peers/idle_conns.py"
  [ "$have_node" = 1 ] && idle_round node --expose-gc "$here/peers/idle_conns.js"
done

echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/summarize_streams.py" "$results"
