#!/usr/bin/env bash
# WebSocket benchmarks (issue 18), under taskset: the server on core 0, the load on core 1, contestants alternated.
#   1. echo round trips/s, 64 connections, 32-byte messages: Meanwhile, Kestrel (ASP.NET Core WebSockets), Node ws;
#      two loads, one message in flight per connection: bench/websocket/wsload.c and `meanwhile bench ws://...`;
#   2. memory per idle WebSocket connection, 10,000 open (server RSS before and after, Node ws clients);
#   3. broadcast of one 100-byte message to 10,000 clients: delivered count and latency p50/p99.
# Usage: [ONLY=idle] [SERVER=path/WsBenchServer] bench/websocket.sh [rounds] [seconds]. Ports 23000-23999. ARTIFACTS
# defaults to /tmp/bench-artifacts-websocket. SERVER: a build of bench/websocket to use instead of building one (before/after
# comparisons; the tool is then taken from $ARTIFACTS/cli as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-5}
out=${ARTIFACTS:-/tmp/bench-artifacts-websocket}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"  # 10,000 connections need more than the usual 1024

if [ -z "${SERVER:-}" ]; then # SERVER given: both builds are there already
  dotnet build src/Meanwhile.Cli -c Release -o "$out/cli" >/dev/null
  dotnet build bench/websocket -c Release -o "$out/server" >/dev/null
fi
cli="$out/cli/Meanwhile.Cli"
server=${SERVER:-$out/server/WsBenchServer}
uptime

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() { # port command...: starts a server on core 0 and waits for its "listening" line
  local port=$1; shift
  local log; log=$(mktemp)
  taskset -c 0 "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do grep -q listening "$log" && { echo $!; return; }; sleep 0.1; done
  echo "no server on $port: $(cat "$log")" >&2; exit 1
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

if [ "${ONLY:-}" != idle ]; then # ONLY=idle: the idle-memory and broadcast section alone
# Two loads: wsload.c (C, one epoll loop: cheap per message, so the servers are measured) and `meanwhile bench` (the
# library's own client, ~3x wsload's CPU per message: with it, the ratio partly measures the client). Under shared load
# no process gets a whole core, so the server's CPU time per round trip (utime+stime over the run) is printed too.
cc -O2 -o "$out/wsload" bench/websocket/wsload.c
echo "== echo: 64 connections, 32-byte messages, ${seconds}s x $rounds rounds (round trips/s; server CPU µs per round trip) =="
declare -A rate cpu spid
spid[meanwhile]=$(start 23001 "$server" meanwhile 23001)
spid[kestrel]=$(start 23002 "$server" kestrel 23002)
spid[node]=$(start 23003 node bench/websocket/node-echo.js 23003)
pids+=("${spid[@]}")
declare -A port=([meanwhile]=23001 [kestrel]=23002 [node]=23003)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run_load() { # load name: prints round trips/s
  case $1 in
    wsload) taskset -c 1 "$out/wsload" 127.0.0.1 "${port[$2]}" /echo 64 32 "$seconds" | awk '{print $2}' ;;
    mwbench) taskset -c 1 "$cli" bench "ws://127.0.0.1:${port[$2]}/echo" -c 64 -s 32 -d "${seconds}s" --json | grep -oE '"messages_per_s": [0-9.]+' | awk '{print $2}' ;;
  esac
}
# Warm-up: the JIT builds keep tiering up for many seconds (the tiered-compilation thread, pinned with the server, takes
# its CPU); after 10 s of load it is quiet (perf).
for name in meanwhile kestrel node; do taskset -c 1 "$out/wsload" 127.0.0.1 "${port[$name]}" /echo 64 32 10 >/dev/null; done
for round in $(seq "$rounds"); do
  for load in wsload mwbench; do
    for name in meanwhile kestrel node; do
      t0=$(ticks "${spid[$name]}"); t0s=$(date +%s.%N)
      r=$(run_load $load $name)
      t1=$(ticks "${spid[$name]}"); t1s=$(date +%s.%N)
      c=$(awk -v a="$t0" -v b="$t1" -v s0="$t0s" -v s1="$t1s" -v r="$r" 'BEGIN {printf "%.1f", (b - a) / 100 / (r * (s1 - s0)) * 1e6}')
      rate[$load.$name]+="$r "; cpu[$load.$name]+="$c "
      echo "round $round $load $name $r/s, server CPU $c µs per round trip"
    done
  done
done
uptime
med() { echo "$1" | tr ' ' '\n' | grep . | median; }
for load in wsload mwbench; do
  for name in meanwhile kestrel node; do
    echo "median $load $name: $(med "${rate[$load.$name]}") round trips/s, server CPU $(med "${cpu[$load.$name]}") µs per round trip"
  done
  awk -v m="$(med "${rate[$load.meanwhile]}")" -v k="$(med "${rate[$load.kestrel]}")" -v n="$(med "${rate[$load.node]}")" \
    -v cm="$(med "${cpu[$load.meanwhile]}")" -v ck="$(med "${cpu[$load.kestrel]}")" -v cn="$(med "${cpu[$load.node]}")" -v l=$load \
    'BEGIN {printf "%s: round trips/s Meanwhile/Kestrel %.2fx, Meanwhile/Node %.2fx; CPU per round trip Kestrel/Meanwhile %.2fx, Node/Meanwhile %.2fx\n", l, m/k, m/n, ck/cm, cn/cm}'
done
cleanup; pids=()
fi

echo "== 10,000 idle WebSocket connections: server memory per connection, then 5 broadcasts of 100 bytes =="
pid=$(start 23010 "$server" meanwhile 23010)
pids+=("$pid")
# Warm the server up with batches that leave again, so the figure is the connections' own: the runtime's tier-up of
# the accept, handshake and idle paths happens here, and the JIT's scratch memory (~5 MB of glibc arena that stays in
# RSS, heaptrack) with it; one batch of 500 left it inside the measurement (~550 B per connection).
for _ in 1 2 3; do taskset -c 1 node bench/websocket/clients.js ws://127.0.0.1:23010/broadcast 2000 0 </dev/null >/dev/null; sleep 1; done
before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
heap_before=$(curl -s http://127.0.0.1:23010/memory)
curl -s http://127.0.0.1:23010/compact >/dev/null; compact_before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
log=$(mktemp); fifo=$(mktemp -u); mkfifo "$fifo"
taskset -c 1 node bench/websocket/clients.js ws://127.0.0.1:23010/broadcast 10000 5 <"$fifo" >"$log" 2>&1 &
pids+=($!)
exec 9>"$fifo"
for _ in $(seq 600); do grep -q "^open" "$log" && break; sleep 0.5; done
sleep 1
after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "GC as of its last collection, with the connections: $(curl -s http://127.0.0.1:23010/gc)"
heap_after=$(curl -s http://127.0.0.1:23010/memory)
curl -s http://127.0.0.1:23010/compact >/dev/null; compact_after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "server RSS: $before KB before, $after KB with $(curl -s http://127.0.0.1:23010/count | tr -d '\n') connections: $(( (after - before) * 1024 / 10000 )) bytes per connection"
echo "managed heap after a full GC: $heap_before B before, $heap_after B after: $(( (heap_after - heap_before) / 10000 )) bytes per connection"
echo "server RSS after an aggressive compacting GC: $compact_before KB before, $compact_after KB after: $(( (compact_after - compact_before) * 1024 / 10000 )) bytes per connection"
echo go >&9
for _ in $(seq 600); do grep -q "^done" "$log" && break; sleep 0.5; done
grep -E "^delivered|rror" "$log" || true
exec 9>&-
rm -f "$fifo" "$log"
