#!/usr/bin/env bash
# HTTP server benchmark (issue 4): "Hello, World!" text/plain over keep-alive, Meanwhile.Http.Server against nginx
# (1 worker), Kestrel and Node's http module, all in one run. Every server is pinned to core 0, wrk to core 1.
#
#   bench/server/run.sh                      # ROUNDS=5 SECONDS_PER_RUN=5 WARMUP=5 CONNS=64 DEPTH=16
#
# For each round and each server (interleaved, so outside load hits all of them alike):
#   plain     wrk -t1 -c64 -dNs URL                               (one request per write)
#   pipeline  wrk -t1 -c64 -dNs -s pipeline.lua URL -- 16         (16 requests per write)
# with the server's CPU time (user + system, process and children, /proc) over the run, and for Meanwhile the bytes
# the process allocated (its /_stats endpoint, read before and after). Servers: meanwhile (epoll reactor),
# meanwhile-portable (MEANWHILE_REACTOR=portable), kestrel (minimal API MapGet), kestrel-raw (one middleware),
# nginx, node. Raw lines go to RESULTS (JSON lines); summarize.py prints medians, ratios and the goals.
# BASELINE=DIR adds meanwhile-before: DIR's own bench/server/MeanwhileHello (another checkout, e.g. a
# `git worktree add /tmp/before main`), in the same rounds, for a before/after comparison.
# Needs: nginx, wrk, node, taskset, python3, the .NET SDK (Microsoft.AspNetCore.App shared framework).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ROUNDS="${ROUNDS:-5}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-5}"
WARMUP="${WARMUP:-5}"
CONNS="${CONNS:-64}"
DEPTH="${DEPTH:-16}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
ARTIFACTS="${ARTIFACTS:-/tmp/serverbench-artifacts}"
BASELINE="${BASELINE:-}"
SERVERS="${SERVERS:-meanwhile ${BASELINE:+meanwhile-before }meanwhile-portable kestrel kestrel-raw nginx node}"
PIPELINED="${PIPELINED:-meanwhile ${BASELINE:+meanwhile-before }meanwhile-portable kestrel kestrel-raw nginx node}"
work="$(mktemp -d)"
chmod 755 "$work"
RESULTS="${RESULTS:-$work/results.jsonl}"
: > "$RESULTS"
declare -A pid port
cleanup() {
  for s in "${!pid[@]}"; do kill "${pid[$s]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for tool in nginx wrk node taskset python3 curl dotnet; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install -y nginx wrk)" >&2; exit 1; }
done

echo "== build (Release, $ARTIFACTS)"
for p in MeanwhileHello KestrelHello; do
  dotnet build -c Release --artifacts-path "$ARTIFACTS" "$here/$p" -nologo -v q | grep -E "error|Warn|Elapsed" || true
done
mw="$ARTIFACTS/bin/MeanwhileHello/release/MeanwhileHello"
if [ -n "$BASELINE" ]; then
  dotnet build -c Release --artifacts-path "$ARTIFACTS-baseline" "$BASELINE/bench/server/MeanwhileHello" -nologo -v q | grep -E "error|Warn|Elapsed" || true
  echo "   baseline: $BASELINE at $(git -C "$BASELINE" rev-parse --short HEAD)"
fi
mwb="$ARTIFACTS-baseline/bin/MeanwhileHello/release/MeanwhileHello"
ke="$ARTIFACTS/bin/KestrelHello/release/KestrelHello"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "server on port $1 did not start" >&2; exit 1; }

start() { # name, then the command (run pinned, in the background)
  local name="$1"; shift
  port[$name]=$(free_port)
  local cmd=("$@")
  cmd=("${cmd[@]//@PORT@/${port[$name]}}")
  taskset -c "$SERVER_CPU" "${cmd[@]}" > "$work/$name.log" 2>&1 &
  pid[$name]=$!
}

for s in $SERVERS; do
  case "$s" in
    meanwhile) start "$s" env -u MEANWHILE_REACTOR "$mw" --port @PORT@ --loops 1 ;;
    meanwhile-before) start "$s" env -u MEANWHILE_REACTOR "$mwb" --port @PORT@ --loops 1 ;;
    meanwhile-portable) start "$s" env MEANWHILE_REACTOR=portable "$mw" --port @PORT@ --loops 1 ;;
    kestrel) start "$s" "$ke" --port @PORT@ --mode mapget ;;
    kestrel-raw) start "$s" "$ke" --port @PORT@ --mode raw ;;
    node) start "$s" node "$here/hello.js" @PORT@ ;;
    nginx)
      port[nginx]=$(free_port)
      cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
error_log $work/nginx-error.log warn;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $work;
  default_type text/plain;
  server { listen 127.0.0.1:${port[nginx]}; location / { return 200 "Hello, World!"; } }
}
CONF
      taskset -c "$SERVER_CPU" nginx -p "$work" -c "$work/nginx.conf" > "$work/nginx.log" 2>&1 &
      pid[nginx]=$! ;;
    *) echo "unknown server $s" >&2; exit 1 ;;
  esac
done
for s in $SERVERS; do wait_port "${port[$s]}"; done

echo "== responses (bytes on the wire for GET /)"
for s in $SERVERS; do
  printf '  %-20s %s B: %s\n' "$s" "$(curl -s -o /dev/null -w '%{size_header} %{size_download}' "http://127.0.0.1:${port[$s]}/" | awk '{print $1 + $2}')" \
    "$(curl -sI "http://127.0.0.1:${port[$s]}/" | tr -d '\r' | grep -iE '^(content-type|content-length|transfer-encoding|server):' | tr '\n' ' ')"
done

run_wrk() { # server mode seconds -> "requests seconds req/s"
  local s="$1" mode="$2" secs="$3" extra=()
  [ "$mode" = pipeline ] && extra=(-s "$here/pipeline.lua")
  local out
  if [ "$mode" = pipeline ]; then
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" "${extra[@]}" "http://127.0.0.1:${port[$s]}/" -- "$DEPTH")
  else
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" "http://127.0.0.1:${port[$s]}/")
  fi
  echo "$out" | awk '/requests in/ {n=$1; t=$4; sub(/s,$/, "", t)} /Requests\/sec/ {r=$2} /Non-2xx|Socket errors/ {e=e $0} END {print n, t, r, (e=="" ? "-" : "errors")}'
}

stats() { # Meanwhile's allocation counters
  case "$1" in meanwhile*) curl -s "http://127.0.0.1:${port[$1]}/_stats" ;; *) echo "0 0 0 0" ;; esac
}

echo "== warm-up (${WARMUP}s plain + ${WARMUP}s pipelined per server); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $SERVERS; do
  run_wrk "$s" plain "$WARMUP" >/dev/null
  case " $PIPELINED " in *" $s "*) run_wrk "$s" pipeline "$WARMUP" >/dev/null ;; esac
done

for r in $(seq "$ROUNDS"); do
  echo "== round $r/$ROUNDS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  for mode in plain pipeline; do
    for s in $SERVERS; do
      if [ "$mode" = pipeline ]; then case " $PIPELINED " in *" $s "*) ;; *) continue ;; esac; fi
      read -r a0 g00 g10 g20 < <(stats "$s")
      c0=$(python3 "$here/cputicks.py" "${pid[$s]}")
      read -r n t rps err < <(run_wrk "$s" "$mode" "$SECONDS_PER_RUN")
      c1=$(python3 "$here/cputicks.py" "${pid[$s]}")
      read -r a1 g01 g11 g21 < <(stats "$s")
      load=$(cut -d' ' -f1 /proc/loadavg)
      printf '{"round":%d,"server":"%s","mode":"%s","requests":%s,"seconds":%s,"rps":%s,"cpu_s":%s,"alloc_bytes":%s,"gc0":%s,"gc1":%s,"gc2":%s,"load1":%s,"errors":"%s"}\n' \
        "$r" "$s" "$mode" "$n" "$t" "$rps" "$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}')" "$((a1 - a0))" "$((g01 - g00))" "$((g11 - g10))" "$((g21 - g20))" "$load" "$err" >> "$RESULTS"
      printf '  %-9s %-20s %10s req/s  server CPU %5.1f %%  %s\n' "$mode" "$s" "$rps" "$(awk -v a="$c0" -v b="$c1" -v t="$t" 'BEGIN {print (b - a) * 100 / t}')" "$err"
    done
  done
done
echo "== end; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
python3 "$here/summarize.py" "$RESULTS"
[ "$RESULTS" = "$work/results.jsonl" ] && cp "$RESULTS" /tmp/serverbench-results.jsonl && echo "(raw results kept in /tmp/serverbench-results.jsonl)"
