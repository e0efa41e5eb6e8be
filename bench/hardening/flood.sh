#!/usr/bin/env bash
# Floods against the Meanwhile HTTP server (issue 7): does memory stay bounded, does a normal request still get through?
#
#   bench/hardening/flood.sh        # ATTACKS="headers chunked pipeline" DURATION=40 RT=0 OUT=/tmp/hardening-results
#
# Each attack runs against a fresh server process (Release, one loop, pinned to core SERVER_CPU=0); the attacker
# (hostile.py, asyncio) and the probes run on core CLIENT_CPU=1:
#   headers         200 clients: a request line, then header lines as fast as the socket takes them, never ending the
#                   head (MeanwhileHello; the limits answer 431 at 32 KiB or 100 fields)
#   chunked         64 clients: POST with Transfer-Encoding: chunked, then 16 KiB chunks without end, to the echo
#                   handler (`meanwhile echo --loops 1 --quiet`), which reads the whole body (413 at 16 MiB)
#   chunked-unread  the same against MeanwhileHello's GET-only route (405; the server drains at most 1 MiB, then closes)
#   pipeline        64 clients writing GET requests back to back and never reading a response (MeanwhileHello; the
#                   server stops reading when its writes block, and drops the client after ResponseWriteTimeout, 30 s)
# Every attacker opens a closed connection again at once, for DURATION seconds.
#
# Per attack: RSS when idle (after a few requests), sampled every second during the attack with the descriptor count
# and the kernel's socket queues of the server's connections (ss: bytes the server has not read, bytes it has written
# that the client has not taken; kernel memory, outside RSS), peak RSS (VmHWM), RSS 3 s after the attack; a normal GET
# (curl, new connection, 5 s limit) every 2 s during the attack and once after it. RT=1: the server and the probes run
# under chrt -f (common.sh). Exit status 1 if a normal request failed after an attack, or RSS still grew in the last
# third of an attack (more than 10 % and 5 MB over its peak in the middle third; not checked under 30 s).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ATTACKS="${ATTACKS:-headers chunked pipeline}"
DURATION="${DURATION:-40}"

need curl taskset python3 dotnet ss
raise_nofile 2000
echo "== build (Release, $ARTIFACTS)"
build hello cli

status=0
summary=()
for attack in $ATTACKS; do
  case "$attack" in
    headers) mode=headers; conns=200; start_server "$attack" "$hello" --port @PORT@ --loops 1; target="MeanwhileHello" ;;
    chunked) mode=chunked; conns=64; start_server "$attack" "$cli" echo --port @PORT@ --loops 1 --quiet; target="meanwhile echo" ;;
    chunked-unread) mode=chunked; conns=64; start_server "$attack" "$hello" --port @PORT@ --loops 1; target="MeanwhileHello (405)" ;;
    pipeline) mode=pipeline; conns=64; start_server "$attack" "$hello" --port @PORT@ --loops 1; target="MeanwhileHello" ;;
    *) echo "unknown attack $attack (headers chunked chunked-unread pipeline)" >&2; exit 2 ;;
  esac
  echo "== $attack: $conns clients for ${DURATION}s against $target (pid $spid, port $port); load average $(loadavg)"
  for _ in $(seq 1 20); do probe "$port" > /dev/null; done
  sleep 1
  rss0=$(status_kb "$spid" VmRSS); fd0=$(fds "$spid")

  : > "$work/$attack-samples.txt"; : > "$work/$attack-probes.txt"
  taskset -c "$CLIENT_CPU" python3 "$here/hostile.py" "$mode" --port "$port" --conns "$conns" --duration "$DURATION" \
    > "$work/$attack.json" &
  apid=$!; pids+=("$apid")
  t0=$(date +%s.%N)
  ( # a normal GET every 2 s (each in its own process, so a slow one does not delay the next)
    while kill -0 "$apid" 2>/dev/null; do
      sleep 2
      "${rt[@]}" taskset -c "$CLIENT_CPU" bash -c "$(declare -f probe); probe $port" >> "$work/$attack-probes.txt" &
    done
    wait
  ) &
  prober=$!; pids+=("$prober")
  while kill -0 "$apid" 2>/dev/null; do
    sleep 1
    # "seconds rss_kb fds server_unread_bytes server_unsent_bytes"
    echo "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') $(status_kb "$spid" VmRSS) $(fds "$spid")" \
      "$(ss -tnH state established "( sport = :$port )" | awk '{r += $1; s += $2} END {print r + 0, s + 0}')" >> "$work/$attack-samples.txt"
  done
  wait "$apid" || true
  wait "$prober" || true
  sleep 3
  after=$("${rt[@]}" taskset -c "$CLIENT_CPU" bash -c "$(declare -f probe); probe $port")
  rss1=$(status_kb "$spid" VmRSS); hwm=$(status_kb "$spid" VmHWM); fd1=$(fds "$spid")
  stop_server

  read -r ok total worst < <(awk '{n++; if ($1 == 200) ok++; if ($2 > w) w = $2} END {printf "%d %d %.3f\n", ok, n, w}' "$work/$attack-probes.txt")
  read -r mid last unread unsent < <(awk -v d="$DURATION" '
    $1 > d / 3 && $1 <= 2 * d / 3 && $2 > mid {mid = $2}
    $1 > 2 * d / 3 && $2 > last {last = $2}
    $4 > r {r = $4} $5 > s {s = $5}
    END {print mid + 0, last + 0, r + 0, s + 0}' "$work/$attack-samples.txt")
  python3 - "$work/$attack.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
extra = f", {r['requests_sent']:,} requests written" if "requests_sent" in r else ""
life = r.get("lifetime_s")
print(f"   attacker: {r['opened']} connections, {r['server_closed']} closed by the server"
      + (f" after {life['min']}-{life['max']} s (p50 {life['p50']} s)" if life else "")
      + f"; answers: {r['statuses']}; {r['bytes_sent'] / 1e6:,.0f} MB sent{extra}")
PY
  echo "   server RSS: idle $(mb "$rss0") MB, peak (VmHWM) $(mb "$hwm") MB, 3 s after $(mb "$rss1") MB; descriptors $fd0 idle, $fd1 after"
  echo "   kernel socket queues of the server's connections at their largest: $(mb $((unread / 1024))) MB unread by the server, $(mb $((unsent / 1024))) MB written but not taken by the clients"
  echo "   normal GET during the attack: $ok of $total answered 200, slowest ${worst} s; after: $after (status, seconds)"
  summary+=("$(printf '%-15s %8s %10s %10s %10s %8s %10s %s' "$attack" "$conns" "$(mb "$rss0")" "$(mb "$hwm")" "$(mb "$rss1")" "$ok/$total" "$worst" "${after%% *}")")
  if [ "${after%% *}" != 200 ]; then echo "   GOAL MISSED: no normal answer after the $attack attack"; status=1; fi
  if [ "$DURATION" -lt 30 ]; then
    echo "   (growth not checked: DURATION under 30 s)"
  elif awk -v m="$mid" -v l="$last" 'BEGIN {exit !(l > m * 1.10 && l - m > 5120)}'; then
    echo "   GOAL MISSED: RSS still growing in the last third ($(mb "$mid") MB -> $(mb "$last") MB)"; status=1
  fi
done

echo
echo "== summary (MB; load average $(loadavg))"
printf '%-15s %8s %10s %10s %10s %8s %10s %s\n' attack clients "idle RSS" "peak RSS" "RSS after" "GET 200" "slowest s" "GET after"
printf '%s\n' "${summary[@]}"
exit "$status"
