#!/usr/bin/env bash
# The reverse proxy against its peers (issue 21), in one run: `meanwhile proxy`, nginx proxy_pass (upstream keep-alive
# 64) and YARP on Kestrel, all in front of the same nginx upstream, proxy and upstream pinned to core 0 and wrk to
# core 1, contestants alternated round by round; medians of the rounds. Ports 27000-27999 (the proxy's range).
#   bench/proxy.sh                 # ROUNDS=3 SECS=5 WARMUP=2 CONNS=64 ARTIFACTS=/tmp/bench-artifacts-proxy
# `meanwhile` is the Native AOT publish users install (TOOL=/path/to/meanwhile for another build). A framework-dependent
# build needs WARMUP=30 or more: its tiered JIT recompiles the hot path on the proxy's pinned core for many seconds.
#   IDLE=10000 bench/proxy.sh      # also RSS per idle client connection with 10,000 open (meanwhile and nginx)
#   BASELINE=/path/to/other/meanwhile bench/proxy.sh   # a fourth contestant, "baseline": before/after in one run
#   YARP=0 bench/proxy.sh          # without YARP (and its 30 s warm-up)
# Rows: "hello" (13-byte body, wrk -c64), "1 MiB" (a 1 MiB file, wrk -c8, MB/s). The access logs are off.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ARTIFACTS="${ARTIFACTS:-/tmp/bench-artifacts-proxy}"
ROUNDS="${ROUNDS:-3}" SECS="${SECS:-5}" WARMUP="${WARMUP:-2}" CONNS="${CONNS:-64}" IDLE="${IDLE:-0}"
UP=27001 NGX=27002 MW=27003 YARP_PORT=27004 BASE=27005
contestants=(nginx meanwhile)
[ -n "${BASELINE:-}" ] && contestants+=(baseline)
[ "${YARP:-1}" = 1 ] && contestants+=(yarp)
work="$(mktemp -d)"
pids=()
cleanup() { # a stopped contestant (see pause_others) must run again to act on its TERM
  for p in ${pid[@]:-}; do kill -CONT "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; kill -CONT "$p" 2>/dev/null || true; done; rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

if [ -z "${TOOL:-}" ]; then
  dotnet publish -c Release -r linux-x64 --artifacts-path "$ARTIFACTS" -o "$ARTIFACTS/native" "$here/../src/Meanwhile.Cli" -nologo -v q | grep -E " error |rror\(s\)" || true
  TOOL="$ARTIFACTS/native/meanwhile"
fi
[ "${YARP:-1}" = 1 ] && { dotnet build -c Release --artifacts-path "$ARTIFACTS" "$here/proxy/YarpProxy" -nologo -v q | grep -E " error |rror\(s\)" || true; }
yarp="$ARTIFACTS/bin/YarpProxy/release/YarpProxy.dll"

mkdir -p "$work/html"
printf 'Hello, World!' > "$work/html/hello"
printf 'Hello, World!' > "$work/html/index.html" # what idle_http.py asks for (GET /)
head -c 1048576 /dev/urandom > "$work/html/big.bin"
# shellcheck source=lib/proxy_nginx.sh
. "$here/lib/proxy_nginx.sh"
nginx_conf() { proxy_nginx_conf "$1" "$2" "$3" $'worker_processes 1;\nworker_rlimit_nofile 40000;\nevents { worker_connections 30000; }'; }
# The upstream and the nginx contestant are two nginx processes, so each contestant's CPU time is its own.
nginx_conf upstream "$UP" "root $work/html;"
nginx_conf proxy "$NGX" 'location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }'
taskset -c 0 nginx -p "$work" -c "$work/upstream.conf" > "$work/upstream.log" 2>&1 & pids+=($!)
taskset -c 0 nginx -p "$work" -c "$work/proxy.conf" > "$work/proxy.log" 2>&1 & pids+=($!)
taskset -c 0 "$TOOL" proxy --to "http://127.0.0.1:$UP" --port "$MW" --loops 1 --quiet > "$work/mw.log" 2>&1 & pids+=($!)
mw_pid=$!
yarp_pid=0 base_pid=0
if [ "${YARP:-1}" = 1 ]; then taskset -c 0 dotnet "$yarp" "$YARP_PORT" "http://127.0.0.1:$UP" > "$work/yarp.log" 2>&1 & pids+=($!); yarp_pid=$!; fi
if [ -n "${BASELINE:-}" ]; then
  taskset -c 0 "$BASELINE" proxy --to "http://127.0.0.1:$UP" --port "$BASE" --loops 1 --quiet > "$work/base.log" 2>&1 & pids+=($!); base_pid=$!
fi
wait_port() { for _ in $(seq 1 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
declare -A port=([nginx]=$NGX [meanwhile]=$MW [yarp]=$YARP_PORT [baseline]=$BASE)
for s in "${contestants[@]}"; do wait_port "${port[$s]}"; done
declare -A pid=([nginx]=$(pgrep -P "$(cat "$work/proxy.pid")" | head -1) [meanwhile]=$mw_pid [yarp]=$yarp_pid [baseline]=$base_pid)
# CPU time (user + system, clock ticks) of a process and all its threads.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
for s in "${contestants[@]}"; do
  [ "$(curl -s "http://127.0.0.1:${port[$s]}/hello")" = "Hello, World!" ] || { echo "$s does not proxy /hello" >&2; exit 1; }
  cmp -s <(curl -s "http://127.0.0.1:${port[$s]}/big.bin") "$work/html/big.bin" || { echo "$s does not proxy /big.bin" >&2; exit 1; }
done

# While one contestant is measured the others are stopped (SIGSTOP): an idle .NET process is not idle (YARP's tiered JIT
# and timers ran on core 0 beside the measured proxy, and cost it 25 % more CPU per request, 12-07 03:20).
pause_others() { # signal contestant
  for s in "${contestants[@]}"; do [ "$s" = "$2" ] || kill "-$1" "${pid[$s]}"; done
}
run_wrk() { # server path conns seconds -> "req/s p99_ms MB/s errors cpu_us_per_request"
  local before after
  pause_others STOP "$1"
  before=$(ticks "${pid[$1]}")
  taskset -c 1 wrk -t1 -c"$3" -d"$4s" --latency "http://127.0.0.1:${port[$1]}$2" > "$work/wrk.out"
  after=$(ticks "${pid[$1]}")
  pause_others CONT "$1"
  awk -v cpu="$(( (after - before) * 1000000 / hz ))" -v secs="$4" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    function mb(v) { if (v ~ /GB$/) return v * 1024; if (v ~ /MB$/) return v + 0; if (v ~ /KB$/) return v / 1024; return v / 1048576 }
    /Requests\/sec/ {r=$2} / 99%/ {p=ms($2)} /Transfer\/sec/ {t=mb($2)} /Non-2xx|Socket errors/ {e="errors"}
    END {printf "%.0f %.2f %.1f %s %.1f\n", r, p, t, (e=="" ? "-" : e), cpu / (r * secs)}' "$work/wrk.out"
}

echo "$(uptime); ${ROUNDS} rounds of ${SECS}s per contestant, warm-up ${WARMUP}s"
# YARP runs on the tiered JIT: it gets YARP_WARMUP (30 s) so that its recompiling is over before the window.
for s in "${contestants[@]}"; do
  w=$WARMUP; [ "$s" = yarp ] && w=${YARP_WARMUP:-30}
  run_wrk "$s" /hello "$CONNS" "$w" >/dev/null; run_wrk "$s" /big.bin 8 "$WARMUP" >/dev/null
done
for r in $(seq "$ROUNDS"); do
  for s in "${contestants[@]}"; do
    echo "hello $s $(run_wrk "$s" /hello "$CONNS" "$SECS")" >> "$work/results"
    echo "big $s $(run_wrk "$s" /big.bin 8 "$SECS")" >> "$work/results"
  done
done
python3 - "$work/results" "${contestants[@]}" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
def col(kind, s, i): return [float(r[i]) for r in rows if r[0] == kind and r[1] == s]
# CPU per request is the proxy process's own (user + system, all threads): under a shared, loaded machine a process
# with more threads gets a larger share of core 0, so req/s ratios favour it; CPU per request does not depend on that.
print(f"{'proxy':10} {'hello req/s (range)':>24} {'p99 ms':>7} {'CPU us/req':>10} {'x nginx':>7} {'1 MiB MB/s (range)':>24} {'CPU us/MiB':>10} {'x nginx':>7} errors")
med = statistics.median
base_h = med(col("hello", "nginx", 6)); base_b = med(col("big", "nginx", 6))
names = sys.argv[2:]
for s in names:
    h = col("hello", s, 2); p = col("hello", s, 3); b = col("big", s, 4); hc = col("hello", s, 6); bc = col("big", s, 6)
    errs = ",".join(sorted({r[5] for r in rows if r[1] == s}))
    print(f"{s:10} {med(h):>8.0f} ({min(h):.0f}-{max(h):.0f}) {med(p):>7.1f} {med(hc):>10.1f} {base_h/med(hc):>7.2f}"
          f" {med(b):>8.1f} ({min(b):.1f}-{max(b):.1f}) {med(bc):>10.0f} {base_b/med(bc):>7.2f} {errs}")
print("x nginx: nginx's CPU per request (per MiB) over this proxy's: above 1 is cheaper than nginx")
# Every round, for the ranges quoted with the medians: CPU us per hello request, and the ratios of the same round.
for s in names:
    print(f"  hello CPU us/req per round, {s}: " + " ".join(f"{v:.1f}" for v in col("hello", s, 6)))
for other in ("baseline", "yarp"):
    if other in names:
        ratios = [o / m for o, m in zip(col("hello", other, 6), col("hello", "meanwhile", 6))]
        print(f"  per round, {other} / meanwhile CPU per hello request: " + " ".join(f"{r:.2f}" for r in ratios) + f" (median {med(ratios):.2f})")
ratios = [n / m for n, m in zip(col("hello", "nginx", 6), col("hello", "meanwhile", 6))]
print("  per round, nginx / meanwhile CPU per hello request: " + " ".join(f"{r:.2f}" for r in ratios) + f" (median {med(ratios):.2f})")
for other in ("yarp", "baseline"):
    if other in names:
        print(f"meanwhile vs {other}, CPU per hello request: {med(col('hello',other,6))/med(col('hello','meanwhile',6)):.2f}x cheaper; req/s {med(col('hello','meanwhile',2))/med(col('hello',other,2)):.2f}x;"
              f" per MiB {med(col('big',other,6))/med(col('big','meanwhile',6)):.2f}x")
PY

[ "$IDLE" -gt 0 ] || exit 0
echo "== RSS per idle client connection, $IDLE open through each proxy"
taskset -c 1 python3 "$here/server/idle_http.py" --label meanwhile-proxy --port "$MW" --pid "$mw_pid" --count "$IDLE"
worker=${pid[nginx]}
taskset -c 1 python3 "$here/server/idle_http.py" --label nginx-proxy_pass --port "$NGX" --pid "$worker" --count "$IDLE"
