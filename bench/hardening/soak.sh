#!/usr/bin/env bash
# Soak of the Meanwhile HTTP server (issue 7): wrk at full rate plus connection churn for DURATION seconds, with the
# server's RSS and descriptors sampled into a CSV.
#
#   bench/hardening/soak.sh [DURATION]     # DURATION=600 SAMPLE=10 WARMUP=60 CONNS=64 CHURN_CONNS=8 OUT=/tmp/hardening-results
#
# The server is bench/server/MeanwhileHello (Release, one loop, pinned to core SERVER_CPU=0). On core CLIENT_CPU=1, for
# DURATION seconds at once:
#   load   wrk -t1 -cCONNS -dDURATION --latency URL                       (keep-alive, full rate)
#   churn  wrk -t1 -cCHURN_CONNS -dDURATION -H 'Connection: close' URL    (a new connection for every request)
# Every SAMPLE seconds the server's VmRSS, VmHWM, descriptor count, thread count and CPU time go to a CSV
# (OUT/soak/samples.csv). After the clients stop, the descriptor count is read until it is back to its baseline (at
# most 30 s; idle keep-alive connections close after 15 s).
#
# Goals, checked at the end (exit status 1 if one is missed):
#   - RSS stable: every sample after WARMUP seconds (default 60, or DURATION/4 for runs under 300 s) within 10 % of
#     their median;
#   - descriptors back to the baseline (read before the clients started) once the clients have stopped;
#   - no non-2xx/3xx response and no socket error in either wrk run.
set -euo pipefail
RT=0   # a full-rate soak needs no shield from other programs (and should not starve them for ten minutes)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DURATION="${1:-${DURATION:-600}}"
case "$DURATION" in ''|*[!0-9]*) echo "usage: bench/hardening/soak.sh [DURATION_SECONDS]   (--help for more)" >&2; exit 2 ;; esac
SAMPLE="${SAMPLE:-10}"
WARMUP="${WARMUP:-$(( DURATION >= 300 ? 60 : DURATION / 4 ))}"
CONNS="${CONNS:-64}"
CHURN_CONNS="${CHURN_CONNS:-8}"

need wrk curl taskset python3 dotnet
raise_nofile 2000
echo "== build (Release, $ARTIFACTS)"
build hello
start_server hello "$hello" --port @PORT@ --loops 1
url="http://127.0.0.1:$port/"
for _ in $(seq 1 20); do probe "$port" > /dev/null; done
sleep 2
fd0=$(fds "$spid"); rss0=$(status_kb "$spid" VmRSS)
echo "== server pid $spid on core $SERVER_CPU, port $port: $fd0 descriptors, RSS $(mb "$rss0") MB; load average $(loadavg)"
echo "== soak: ${DURATION}s of wrk -c$CONNS (keep-alive) + wrk -c$CHURN_CONNS (Connection: close), a sample every ${SAMPLE}s"

taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$url" > "$work/load.txt" 2>&1 &
load=$!; pids+=("$load")
taskset -c "$CLIENT_CPU" wrk -t1 -c"$CHURN_CONNS" -d"${DURATION}s" -H 'Connection: close' "$url" > "$work/churn.txt" 2>&1 &
churn=$!; pids+=("$churn")

csv="$work/samples.csv"
echo "seconds,rss_kb,hwm_kb,fds,threads,cpu_s,load1" > "$csv"
ticks=$(getconf CLK_TCK)
sample() { # seconds since the start -> one CSV line
  local cpu
  cpu=$(awk -v t="$ticks" '{printf "%.1f", ($14 + $15) / t}' "/proc/$spid/stat")
  echo "$1,$(status_kb "$spid" VmRSS),$(status_kb "$spid" VmHWM),$(fds "$spid"),$(status_kb "$spid" Threads),$cpu,$(cut -d' ' -f1 /proc/loadavg)" >> "$csv"
}
start=$SECONDS
next=$SAMPLE
while kill -0 "$load" 2>/dev/null || kill -0 "$churn" 2>/dev/null; do
  if [ $((SECONDS - start)) -ge "$next" ]; then
    sample "$next"
    tail -n 1 "$csv" | awk -F, '{printf "   %5ss  RSS %7.1f MB  descriptors %5d  threads %3d  CPU %7.1f s  load %s\n", $1, $2 / 1024, $4, $5, $6, $7}'
    next=$((next + SAMPLE))
  fi
  sleep 0.5
done
wait "$load" || true
wait "$churn" || true

# The clients have stopped: wait for the descriptor count to come back.
fd_end=$(fds "$spid"); waited=0
while [ "$fd_end" -gt "$fd0" ] && [ "$waited" -lt 30 ]; do sleep 1; waited=$((waited + 1)); fd_end=$(fds "$spid"); done
after=$(probe "$port")
hwm=$(status_kb "$spid" VmHWM)

read -r ln lbad lc lr lw lt < <(wrk_totals < "$work/load.txt")
read -r cn cbad cc cr cw ct < <(wrk_totals < "$work/churn.txt")
read -r l50 l75 l90 l99 lmax < <(wrk_percentiles < "$work/load.txt")
lrps=$(awk '/Requests\/sec/ {print $2}' "$work/load.txt"); crps=$(awk '/Requests\/sec/ {print $2}' "$work/churn.txt")

echo
echo "== results (load average $(loadavg))"
echo "   load:  $ln requests ($lrps/s), p50 $l50 ms, p99 $l99 ms, max $lmax ms; non-2xx $lbad; socket errors connect $lc, read $lr, write $lw, timeout $lt"
echo "   churn: $cn requests on as many connections ($crps/s); non-2xx $cbad; socket errors connect $cc, read $cr, write $cw, timeout $ct"
python3 - "$csv" "$WARMUP" > "$work/rss.txt" <<'PY'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if float(r["seconds"]) > float(sys.argv[2])]
if not rows:
    print("none 0 0 0 0 0")
    sys.exit()
rss = [int(r["rss_kb"]) for r in rows]
med = statistics.median(rss)
dev = max(abs(x - med) for x in rss) / med * 100
print(len(rss), min(rss), int(med), max(rss), f"{dev:.1f}", rows[-1]["seconds"])
PY
read -r n rmin rmed rmax dev last < "$work/rss.txt"
echo "   RSS after ${WARMUP}s of warm-up ($n samples to ${last}s): min $(mb "$rmin") MB, median $(mb "$rmed") MB, max $(mb "$rmax") MB; max deviation from the median $dev %; peak (VmHWM) $(mb "$hwm") MB"
echo "   descriptors: $fd0 at baseline, $fd_end ${waited}s after the clients stopped"
echo "   a normal request after the soak: $after (status, seconds)"
echo "   samples: $OUT/$name/samples.csv"

status=0
if [ "$n" = none ]; then echo "GOAL NOT CHECKED: no sample after the warm-up (DURATION too short?)"; status=1
elif awk -v d="$dev" 'BEGIN {exit !(d > 10)}'; then echo "GOAL MISSED: RSS deviates $dev % from its median (> 10 %)"; status=1; fi
if [ "$fd_end" -gt "$fd0" ]; then echo "GOAL MISSED: $fd_end descriptors at the end, $fd0 at baseline"; status=1; fi
if [ $((lbad + cbad)) -ne 0 ]; then echo "GOAL MISSED: $((lbad + cbad)) non-2xx/3xx responses"; status=1; fi
if [ $((lc + lr + lw + lt + cc + cr + cw + ct)) -ne 0 ]; then echo "GOAL MISSED: $((lc + lr + lw + lt + cc + cr + cw + ct)) socket errors"; status=1; fi
if [ "${after%% *}" != 200 ]; then echo "GOAL MISSED: no answer after the soak"; status=1; fi
[ "$status" -eq 0 ] && echo "goals met: RSS within $dev % of its median, descriptors back to $fd0, no error"
exit "$status"
