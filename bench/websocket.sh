#!/usr/bin/env bash
# WebSocket benchmarks (issue 18), under taskset: the server on core 0, the load on core 1, contestants alternated.
#   1. echo round trips/s, 64 connections, 32-byte messages, one message in flight per connection: Meanwhile, Kestrel
#      (ASP.NET Core WebSockets), Node ws, and the floor, a C server that reads, unmasks and writes back
#      (bench/websocket/wsfloor.c), loaded by bench/websocket/wsload.c (and `meanwhile bench ws://` with MWBENCH=1);
#   2. broadcast of one 100-byte message to 10,000 clients (bench/websocket/wsbroadcast.c, in C on one epoll loop):
#      Meanwhile framing per connection (/send) and prepared once (/send-prepared), Node ws, and the floor: a C server
#      that only calls send() once per client (bench/websocket/wsfloor.c); delivered count, latency p50/p99 from the
#      broadcast's start, and each server's own send loop;
#   3. memory per idle WebSocket connection, 10,000 open (server RSS before and after, Node ws clients).
# Usage: [ONLY=echo|broadcast|idle] [JIT=1] [SERVER=path/WsBenchServer] [BASELINE=path/WsBenchServer] [MWBENCH=1]
#        bench/websocket.sh [rounds] [seconds]
# The bench server (Meanwhile and Kestrel in one program) is published Native AOT unless JIT=1 (then a JIT build, warmed
# WARMUP seconds per server, 20 by default: the tiered JIT keeps compiling for that long on a shared core). SERVER: a
# build to use instead. BASELINE: an older build measured beside it in the same rounds (echo and broadcast), as
# "baseline". Ports 23000-23999. ARTIFACTS defaults to /tmp/bench-artifacts-websocket.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-5}
out=${ARTIFACTS:-/tmp/bench-artifacts-websocket}
only=${ONLY:-}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"  # 10,000 connections need more than the usual 1024

if [ -n "${SERVER:-}" ]; then server=$SERVER
elif [ "${JIT:-}" = 1 ]; then dotnet build bench/websocket -c Release -o "$out/server" >/dev/null; server=$out/server/WsBenchServer
else dotnet publish bench/websocket -c Release -r linux-x64 -p:PublishAot=true -o "$out/server-aot" >/dev/null; server=$out/server-aot/WsBenchServer
fi
warmup=${WARMUP:-$([ "${JIT:-}" = 1 ] && echo 20 || echo 3)}
mkdir -p "$out"
for tool in wsload wsbroadcast wsfloor; do cc -O2 -o "$out/$tool" "bench/websocket/$tool.c"; done
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
med() { echo "$1" | tr ' ' '\n' | grep . | median; }

if [ -z "$only" ] || [ "$only" = echo ]; then
echo "== echo: 64 connections, 32-byte messages, ${seconds}s x $rounds rounds after ${warmup}s of warm-up each (round trips/s; CPU µs per round trip) =="
declare -A rate cpu loadcpu spid
declare -A port=([meanwhile]=23001 [kestrel]=23002 [node]=23003 [baseline]=23004 [c]=23005)
names="meanwhile kestrel node c"
if [ -n "${BASELINE:-}" ]; then names="meanwhile baseline kestrel node c"; spid[baseline]=$(start 23004 "$BASELINE" meanwhile 23004); fi
spid[meanwhile]=$(start 23001 "$server" meanwhile 23001)
spid[kestrel]=$(start 23002 "$server" kestrel 23002)
spid[node]=$(start 23003 node bench/websocket/node-echo.js 23003)
spid[c]=$(start 23005 "$out/wsfloor" 23005)
pids+=("${spid[@]}")
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
loads=wsload
if [ "${MWBENCH:-}" = 1 ]; then
  # The library's own client costs ~3x wsload's CPU per round trip: with it, the ratio partly measures the client.
  dotnet build src/Meanwhile.Cli -c Release -o "$out/cli" >/dev/null
  loads="wsload mwbench"
fi
run_load() { # load name: prints "round_trips/s load_cpu_µs_per_round_trip"
  case $1 in
    wsload) taskset -c 1 "$out/wsload" 127.0.0.1 "${port[$2]}" /echo 64 32 "$seconds" | awk '{print $2, $4}' ;;
    mwbench) taskset -c 1 "$out/cli/Meanwhile.Cli" bench "ws://127.0.0.1:${port[$2]}/echo" -c 64 -s 32 -d "${seconds}s" --json | grep -oE '"messages_per_s": [0-9.]+' | awk '{print $2, 0}' ;;
  esac
}
for name in $names; do taskset -c 1 "$out/wsload" 127.0.0.1 "${port[$name]}" /echo 64 32 "$warmup" >/dev/null; done
for round in $(seq "$rounds"); do
  for load in $loads; do
    for name in $names; do
      t0=$(ticks "${spid[$name]}"); t0s=$(date +%s.%N)
      read -r r lc < <(run_load "$load" "$name")
      t1=$(ticks "${spid[$name]}"); t1s=$(date +%s.%N)
      # The server's CPU time (utime+stime) per round trip: under shared load no process gets a whole core.
      c=$(awk -v a="$t0" -v b="$t1" -v s0="$t0s" -v s1="$t1s" -v r="$r" 'BEGIN {printf "%.1f", (b - a) / 100 / (r * (s1 - s0)) * 1e6}')
      rate[$load.$name]+="$r "; cpu[$load.$name]+="$c "; loadcpu[$load.$name]+="$lc "
      echo "round $round $load $name $r/s, server CPU $c µs, load generator CPU $lc µs per round trip"
    done
  done
done
uptime
for load in $loads; do
  for name in $names; do
    echo "median $load $name: $(med "${rate[$load.$name]}") round trips/s, server CPU $(med "${cpu[$load.$name]}") µs, load generator CPU $(med "${loadcpu[$load.$name]}") µs per round trip"
  done
  awk -v m="$(med "${rate[$load.meanwhile]}")" -v k="$(med "${rate[$load.kestrel]}")" -v n="$(med "${rate[$load.node]}")" \
    -v cm="$(med "${cpu[$load.meanwhile]}")" -v ck="$(med "${cpu[$load.kestrel]}")" -v cn="$(med "${cpu[$load.node]}")" -v l="$load" \
    -v cc="$(med "${cpu[$load.c]}")" \
    'BEGIN {printf "%s: echo round trips/s Meanwhile/Kestrel %.2fx, Meanwhile/Node %.2fx; server CPU per round trip Kestrel/Meanwhile %.2fx, Node/Meanwhile %.2fx, Meanwhile/the C floor %.2fx\n", l, m/k, m/n, ck/cm, cn/cm, cm/cc}'
  if [ -n "${BASELINE:-}" ]; then
    awk -v m="$(med "${rate[$load.meanwhile]}")" -v b="$(med "${rate[$load.baseline]}")" -v cm="$(med "${cpu[$load.meanwhile]}")" -v cb="$(med "${cpu[$load.baseline]}")" -v l="$load" \
      'BEGIN {printf "%s: against the baseline build: round trips/s %.2fx, server CPU per round trip %.2fx\n", l, m/b, cm/cb}'
  fi
done
cleanup; pids=()
fi

if [ -z "$only" ] || [ "$only" = broadcast ]; then
echo "== broadcast: one 100-byte message to 10,000 clients, $rounds rounds (wsbroadcast.c on core 1) =="
# One server at a time holds the 10,000 connections; each round opens them anew and broadcasts twice per way.
declare -A bport=([meanwhile]=23011 [node]=23012 [c]=23013 [baseline]=23014) paths=([meanwhile]=/send,/send-prepared [node]=/send [c]=/send [baseline]=/send)
declare -A p99 persend
bnames="meanwhile node c"
if [ -n "${BASELINE:-}" ]; then bnames="meanwhile baseline node c"; start 23014 "$BASELINE" meanwhile 23014 >/dev/null; fi
start 23011 "$server" meanwhile 23011 >/dev/null
start 23012 node bench/websocket/node-echo.js 23012 >/dev/null
start 23013 "$out/wsfloor" 23013 >/dev/null
for round in $(seq "$rounds"); do
  for name in $bnames; do
    n=$(( $(echo "${paths[$name]}" | tr ',' '\n' | wc -l) * 2 ))
    while read -r line; do
      echo "round $round $name $line"
      key="$name$(echo "$line" | awk '{print $1}')"
      p99[$key]+="$(echo "$line" | grep -oE 'p99 [0-9.]+' | awk '{print $2}' || true) "
      # The server's send loop per client, from its answer "N sent...: loop X ms" (older builds print no per-send figure).
      persend[$key]+="$(echo "$line" | grep -oE '[0-9]+ sent[^:]*: loop [0-9.]+' | awk '{printf "%.1f", $NF * 1000 / $1}' || true) "
    done < <(taskset -c 1 "$out/wsbroadcast" 127.0.0.1 "${bport[$name]}" /broadcast "${paths[$name]}" 10000 "$n" | grep delivered)
  done
done
uptime
for key in meanwhile/send meanwhile/send-prepared $([ -n "${BASELINE:-}" ] && echo baseline/send) node/send c/send; do
  echo "median $key: p99 $(med "${p99[$key]}") ms, send loop $(med "${persend[$key]}") µs per send"
done
awk -v m="$(med "${persend[meanwhile/send]}")" -v mp="$(med "${persend[meanwhile/send-prepared]}")" -v n="$(med "${persend[node/send]}")" -v c="$(med "${persend[c/send]}")" \
  'BEGIN {printf "broadcast send loop per client: Meanwhile %.2fx the C floor (prepared %.2fx), Node ws %.2fx Meanwhile'"'"'s\n", m/c, mp/c, n/m}'
if [ -n "${BASELINE:-}" ]; then
  awk -v b="$(med "${persend[baseline/send]}")" -v c="$(med "${persend[c/send]}")" 'BEGIN {printf "broadcast send loop per client: the baseline build %.2fx the C floor\n", b/c}'
fi
cleanup; pids=()
fi

if [ -z "$only" ] || [ "$only" = idle ]; then
echo "== 10,000 idle WebSocket connections: server memory per connection =="
pid=$(start 23010 "$server" meanwhile 23010)
pids+=("$pid")
# Warm the server up with batches that leave again, so the figure is the connections' own: the runtime's tier-up of
# the accept, handshake and idle paths happens here, and the JIT's scratch memory (~5 MB of glibc arena that stays in
# RSS, heaptrack) with it; one batch of 500 left it inside the measurement (~550 B per connection).
for _ in 1 2 3; do taskset -c 1 node bench/websocket/clients.js ws://127.0.0.1:23010/broadcast 2000 </dev/null >/dev/null; sleep 1; done
before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
heap_before=$(curl -s http://127.0.0.1:23010/memory)
curl -s http://127.0.0.1:23010/compact >/dev/null; compact_before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
log=$(mktemp); fifo=$(mktemp -u); mkfifo "$fifo"
taskset -c 1 node bench/websocket/clients.js ws://127.0.0.1:23010/broadcast 10000 <"$fifo" >"$log" 2>&1 &
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
grep -i "rror" "$log" || true
exec 9>&-
rm -f "$fifo" "$log"
fi
