#!/usr/bin/env bash
# WebSocket benchmarks (issue 18), under taskset: the server on core 0, the load on core 1, contestants alternated.
#   1. echo round trips/s, 64 connections, 32-byte messages: Meanwhile, Kestrel (ASP.NET Core WebSockets), Node ws;
#      the load is `meanwhile bench ws://...` (one loop, one message in flight per connection);
#   2. memory per idle WebSocket connection, 10,000 open (server RSS before and after, Node ws clients);
#   3. broadcast of one 100-byte message to 10,000 clients: delivered count and latency p50/p99.
# Usage: [ONLY=idle] bench/websocket.sh [rounds] [seconds]. Ports 23000-23999. ARTIFACTS defaults to /tmp/bench-artifacts-websocket.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-5}
out=${ARTIFACTS:-/tmp/bench-artifacts-websocket}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"  # 10,000 connections need more than the usual 1024

dotnet build src/Meanwhile.Cli -c Release -o "$out/cli" >/dev/null
dotnet build bench/websocket -c Release -o "$out/server" >/dev/null
cli="$out/cli/Meanwhile.Cli"
server="$out/server/WsBenchServer"
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
echo "== echo: 64 connections, 32-byte messages, ${seconds}s x $rounds rounds (round trips/s; p99 µs) =="
declare -A rate p99
start 23001 "$server" meanwhile 23001 >/dev/null
start 23002 "$server" kestrel 23002 >/dev/null
start 23003 node bench/websocket/node-echo.js 23003 >/dev/null
for name in meanwhile kestrel node; do "$cli" bench "ws://127.0.0.1:$([ $name = meanwhile ] && echo 23001 || ([ $name = kestrel ] && echo 23002 || echo 23003))/echo" -c 64 -d 2s >/dev/null; done # warm-up
for round in $(seq "$rounds"); do
  for name in meanwhile kestrel node; do
    case $name in meanwhile) port=23001 ;; kestrel) port=23002 ;; node) port=23003 ;; esac
    json=$(taskset -c 1 "$cli" bench "ws://127.0.0.1:$port/echo" -c 64 -s 32 -d "${seconds}s" --json)
    r=$(echo "$json" | grep -oE '"messages_per_s": [0-9.]+' | awk '{print $2}')
    p=$(echo "$json" | grep -oE '"p99": [0-9.]+' | awk '{print $2}')
    rate[$name]+="$r "; p99[$name]+="$p "
    echo "round $round $name $r/s p99 ${p} µs"
  done
done
for name in meanwhile kestrel node; do
  m=$(echo "${rate[$name]}" | tr ' ' '\n' | grep . | median)
  echo "median $name: $m round trips/s (range $(echo "${rate[$name]}" | tr ' ' '\n' | grep . | sort -n | head -1)-$(echo "${rate[$name]}" | tr ' ' '\n' | grep . | sort -n | tail -1)), p99 median $(echo "${p99[$name]}" | tr ' ' '\n' | grep . | median) µs"
  declare "med_$name=$m"
done
awk -v m="$med_meanwhile" -v k="$med_kestrel" -v n="$med_node" 'BEGIN {printf "Meanwhile/Kestrel %.2fx, Meanwhile/Node %.2fx\n", m/k, m/n}'
cleanup; pids=()
fi

echo "== 10,000 idle WebSocket connections: server memory per connection, then 5 broadcasts of 100 bytes =="
pid=$(start 23010 "$server" meanwhile 23010)
pids+=("$pid")
# Warm the server up (JIT, pools) with a first batch that leaves again, so the figure is the connections' own.
taskset -c 1 node bench/websocket/clients.js ws://127.0.0.1:23010/broadcast 500 0 </dev/null >/dev/null
sleep 1
before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
heap_before=$(curl -s http://127.0.0.1:23010/memory)
log=$(mktemp); fifo=$(mktemp -u); mkfifo "$fifo"
taskset -c 1 node bench/websocket/clients.js ws://127.0.0.1:23010/broadcast 10000 5 <"$fifo" >"$log" 2>&1 &
pids+=($!)
exec 9>"$fifo"
for _ in $(seq 600); do grep -q "^open" "$log" && break; sleep 0.5; done
sleep 1
after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
heap_after=$(curl -s http://127.0.0.1:23010/memory)
echo "server RSS: $before KB before, $after KB with $(curl -s http://127.0.0.1:23010/count | tr -d '\n') connections: $(( (after - before) * 1024 / 10000 )) bytes per connection"
echo "managed heap after a full GC: $heap_before B before, $heap_after B after: $(( (heap_after - heap_before) / 10000 )) bytes per connection"
echo go >&9
for _ in $(seq 600); do grep -q "^done" "$log" && break; sleep 0.5; done
grep -E "^delivered|rror" "$log" || true
exec 9>&-
rm -f "$fifo" "$log"
