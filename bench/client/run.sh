#!/usr/bin/env bash
# Client benchmarks: Meanwhile's LoopHttpClient against wrk and System.Net.Http.HttpClient as load generators
# against nginx (1 worker on core 0, generators on core 1), CPU time and allocation per request over a fixed number
# of requests, then 10,000 concurrent 1-second requests on one loop (a cold and a warm round) next to the floor of
# that scenario (bench/client/many-floor.c, built when cc is there).
# Needs: nginx, libnginx-mod-http-echo (for the delayed answers), wrk, taskset. Usage: bench/client/run.sh [seconds] [rounds]
# BASELINE=DIR also runs DIR's own bench/client (another checkout, e.g. `git worktree add /tmp/before main`) in the same
# rounds, for a before/after comparison of LoopHttpClient's req/s, CPU and allocation per request.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-10}"
rounds="${2:-3}"
conns=64
work="$(mktemp -d)"
chmod 755 "$work"
trap 'kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build -c Release "$here" -v q -nologo >/dev/null
bench="dotnet $root/bench/client/bin/Release/net10.0/Meanwhile.Http.Client.Bench.dll"
before=""
if [ -n "${BASELINE:-}" ]; then
  dotnet build -c Release "$BASELINE/bench/client" -v q -nologo >/dev/null
  before="dotnet $BASELINE/bench/client/bin/Release/net10.0/Meanwhile.Http.Client.Bench.dll"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
slow=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo_module=""
[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ] && echo_module="load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;"
cat > "$work/nginx.conf" <<CONF
$echo_module
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
error_log $work/error.log warn;
pid $work/nginx.pid;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $work;
  server { listen 127.0.0.1:$port; location / { return 200 "Hello, World!"; } }
  server { listen 127.0.0.1:$slow backlog=16384; location / { echo_sleep 1; echo "done"; } }
}
CONF
taskset -c 0 nginx -p "$work" -c "$work/nginx.conf" &
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port/"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
: > "$work/wrk" ; : > "$work/meanwhile" ; : > "$work/system" ; : > "$work/alloc" ; : > "$work/cost-meanwhile" ; : > "$work/cost-system"
: > "$work/before" ; : > "$work/alloc-before" ; : > "$work/cost-before"
for r in $(seq "$rounds"); do
  taskset -c 1 wrk -t1 -c$conns -d${seconds}s "$url" | awk '/Requests\/sec/ {print int($2)}' >> "$work/wrk"
  taskset -c 1 $bench load "$url" meanwhile $conns "$seconds" | tee -a "$work/raw" | awk '{print $2; print $4 > "/dev/stderr"}' >> "$work/meanwhile" 2>>"$work/alloc"
  taskset -c 1 $bench load "$url" system $conns "$seconds" | awk '{print $2}' >> "$work/system"
  taskset -c 1 $bench cost "$url" meanwhile $conns 300000 >> "$work/cost-meanwhile"
  taskset -c 1 $bench cost "$url" system $conns 300000 >> "$work/cost-system"
  if [ -n "$before" ]; then
    taskset -c 1 $before load "$url" meanwhile $conns "$seconds" | awk '{print $2; print $4 > "/dev/stderr"}' >> "$work/before" 2>>"$work/alloc-before"
    taskset -c 1 $before cost "$url" meanwhile $conns 300000 >> "$work/cost-before"
  fi
done
w=$(median < "$work/wrk"); m=$(median < "$work/meanwhile"); s=$(median < "$work/system"); a=$(median < "$work/alloc")
echo "keep-alive GET, $conns connections, ${seconds}s x $rounds rounds, nginx on core 0, generator on core 1 (medians)"
printf "  %-32s %8s req/s\n" "wrk" "$w"
printf "  %-32s %8s req/s  %.2f x wrk  %s B allocated/request\n" "Meanwhile LoopHttpClient" "$m" "$(echo "$m / $w" | bc -l)" "$a"
printf "  %-32s %8s req/s  %.2f x wrk\n" "System.Net.Http.HttpClient" "$s" "$(echo "$s / $w" | bc -l)"
if [ -n "$before" ]; then
  mb=$(median < "$work/before"); ab=$(median < "$work/alloc-before")
  printf "  %-32s %8s req/s  %.2f x wrk  %s B allocated/request  (after/before %.3f)\n" "LoopHttpClient before ($BASELINE)" "$mb" "$(echo "$mb / $w" | bc -l)" "$ab" "$(echo "$m / $mb" | bc -l)"
fi
# CPU per request does not depend on what else runs on the machine the way req/s does (cost mode: 300,000 requests
# once the JIT is done (the bench warms up until it has compiled nothing for 2 s), process CPU time from getrusage).
for c in meanwhile system ${before:+before}; do
  u=$(awk '{print $2}' "$work/cost-$c" | median); k=$(awk '{print $4}' "$work/cost-$c" | median); b=$(awk '{print $6}' "$work/cost-$c" | median)
  printf "  %-32s %6s us user + %6s us system CPU per request, %s B allocated per request\n" "cost, $c" "$u" "$k" "$b"
done

if [ -n "$echo_module" ]; then
  # Each run leaves its 10,000 connections in TIME_WAIT for 60 s, and the parts above leave theirs: with the ephemeral
  # range (28,232 ports here) mostly taken, connect(2) spends half the core searching for a free port
  # (__inet_hash_connect, __inet_check_established, tcp_twsk_unique in perf). Each run below starts on a clean range.
  wait_for_free_ports() {
    command -v ss >/dev/null || return 0
    for _ in $(seq 90); do
      [ "$(ss -s | awk '/^TCP:/ {gsub(/\)/, "", $NF); print $NF}')" -lt 100 ] && return 0
      sleep 1
    done
  }
  echo "10,000 concurrent requests, server answers each after 1 s, one loop, a cold process, on a clean ephemeral port range:"
  ulimit -n 20000
  command -v nstat >/dev/null && nstat -n
  wait_for_free_ports
  taskset -c 1 $bench many "http://127.0.0.1:$slow/" 10000 1 | sed 's/^/  /'
  if command -v cc >/dev/null; then
    cc -O2 -o "$work/many-floor" "$here/many-floor.c"
    echo "  the floor, C with epoll and no client code (bench/client/many-floor.c):"
    wait_for_free_ports
    taskset -c 1 "$work/many-floor" "$slow" 10000 | sed 's/^/    /'
  fi
  # Refused or retried handshakes would mean the server's accept queue (somaxconn $(sysctl -n net.core.somaxconn 2>/dev/null)) was the limit.
  command -v nstat >/dev/null && echo "  listen queue overflows, SYN retransmits: $(nstat | awk '/ListenOverflows|ListenDrops|TCPSynRetrans/ {printf "%s %s ", $1, $2}')" | sed 's/: $/: none/'
else
  echo "(skipped the 10,000-request scenario: install libnginx-mod-http-echo)"
fi
