#!/usr/bin/env bash
# Static files (issue 15): `meanwhile serve -q` against nginx (1 worker, sendfile on) on files of 13 B, 4 KiB, 100 KiB
# and 1 MiB; both with an open-file cache (nginx's open_file_cache, meanwhile's --open-file-cache); the access
# log on (meanwhile to a file and to a pipe drained by `cat > /dev/null`, nginx to a file); server CPU per request;
# system calls per request (strace -f -c); a cold 1 GiB download beside 64 small-file clients (their p99); RSS per
# keep-alive connection with COUNT (10,000) clients that each fetched the 13-byte index.html (bench/server/idle_http.py).
# Server on core 0, the load client on core 1, contestants alternated, medians of ROUNDS rounds. LOAD=httpload (default)
# or LOAD=wrk (bench/load/load.sh): wrk reads and copies every body and was the limit at 100 KiB (~57 us of its core per
# response, the servers ~30); httpload drops plain bodies in the kernel (recv MSG_TRUNC). Each file row shows the
# client's share of its core: near 100 % means the client, not the server, set the rate.
#   bench/server/static.sh          # ROUNDS=3 DURATION=5 ARTIFACTS=/tmp/bench-artifacts-static PART="files log strace cold memory"
#                                   # FILES="4k.bin 1m.bin": only those rows of PART=files
# The tool is the Native AOT publish of src/Meanwhile.Cli, the executable `dotnet publish` and the tool package give users
# (TOOL=/path/to/meanwhile for another build). The framework-dependent build (TOOL=.../Meanwhile.Cli) needs WARMUP=30 or
# more: its tiered JIT recompiles the hot path for many seconds, on the server's pinned core, inside a shorter window.
# BASELINE_TOOL=/path/to/another/meanwhile adds a contestant "meanwhile-base" (that build, same flags) to the file rows, run
# in the same rounds: before/after a change in one run. PORT_BASE (default 20000, the static area's range on the shared
# machine) moves the ports used to PORT_BASE..PORT_BASE+999. FLOOR=1 adds to the file rows the C floor
# (bench/server/static-floor.c: recv, openat2 RESOLVE_BENEATH, statx, cachestat, send head MSG_MORE, sendfile, close per
# request, a head like meanwhile's) and the floor without cachestat: what this kernel costs any server keeping our rules.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
ARTIFACTS="${ARTIFACTS:-/tmp/bench-artifacts-static}"
ROUNDS="${ROUNDS:-3}"
PORT_BASE="${PORT_BASE:-20000}"
DURATION="${DURATION:-5}"
PART="${PART:-files log strace cold memory}"
work="$(mktemp -d)"
pids=()
source "$here/../load/load.sh"
load_init "$ARTIFACTS"
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
if [ -z "${TOOL:-}" ]; then
  dotnet publish -c Release -r linux-x64 --artifacts-path "$ARTIFACTS" -o "$ARTIFACTS/native" "$repo/src/Meanwhile.Cli" -nologo -v q | grep -E " error |rror\(s\)" || true
  TOOL="$ARTIFACTS/native/meanwhile"
fi
wait_port() { for _ in $(seq 1 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

site="$work/site"; mkdir -p "$site"
printf 'Hello, World!' > "$site/index.html"
head -c 4096 /dev/urandom > "$site/4k.bin"
head -c 102400 /dev/urandom > "$site/100k.bin"
head -c 1048576 /dev/urandom > "$site/1m.bin"
cat "$site"/*.bin > /dev/null # cached, as the warm rows assume

nginx_conf() { # port cache(0|1) log(off|file)
  local log="access_log off;"; [ "$3" = file ] && log="access_log $work/nginx-access.log combined;"
  local cache=""; [ "$2" = 1 ] && cache="open_file_cache max=1000 inactive=20s; open_file_cache_valid 1s;"
  cat > "$work/nginx-$1.conf" <<CONF
daemon off; worker_processes 1; error_log $work/nginx-error.log warn; pid $work/nginx-$1.pid;
worker_rlimit_nofile 20000; events { worker_connections 16000; }
http {
  $log $cache
  sendfile on; keepalive_requests 100000000; client_body_temp_path $work; default_type application/octet-stream;
  server { listen 127.0.0.1:$1; root $site; }
}
CONF
}

# start NAME PORT: starts a contestant on core 0, sets $pid (the process whose CPU counts: nginx's worker)
start() {
  local name=$1 port=$2
  case $name in
    nginx|nginx-cache|nginx-log)
      local cache=0 log=off; [ "$name" = nginx-cache ] && cache=1; [ "$name" = nginx-log ] && log=file
      nginx_conf "$port" "$cache" "$log"
      taskset -c 0 nginx -p "$work" -c "$work/nginx-$port.conf" > /dev/null 2>&1 &
      master=$!; pids+=("$master"); wait_port "$port"; killpid=$master
      # the master listens before it forks its worker: wait for the worker, whose CPU counts
      pid=""; for _ in $(seq 1 400); do pid=$(pgrep -P "$master" | head -n 1) || true; [ -n "$pid" ] && break; sleep 0.01; done ;;
    floor|floor-nocachestat)
      # bench/server/static-floor.c: the C floor, our required system calls per request and nothing more
      local flag=(); [ "$name" = floor-nocachestat ] && flag=(--no-cachestat)
      taskset -c 0 "$FLOOR_BIN" "$site" "$port" "${flag[@]}" > /dev/null 2>&1 &
      pid=$!; pids+=("$pid"); killpid=$pid; wait_port "$port" ;;
    meanwhile-base)
      taskset -c 0 "$BASELINE_TOOL" serve "$site" -q --loops 1 --port "$port" > /dev/null 2>&1 &
      pid=$!; pids+=("$pid"); killpid=$pid; wait_port "$port" ;;
    meanwhile|meanwhile-cache)
      local cache=(); [ "$name" = meanwhile-cache ] && cache=(--open-file-cache)
      taskset -c 0 "$TOOL" serve "$site" -q --loops 1 --port "$port" "${cache[@]}" > /dev/null 2>&1 &
      pid=$!; pids+=("$pid"); killpid=$pid; wait_port "$port" ;;
    meanwhile-logfile)
      taskset -c 0 "$TOOL" serve "$site" --loops 1 --port "$port" --access-log "$work/mw-access.log" > /dev/null 2>&1 &
      pid=$!; pids+=("$pid"); killpid=$pid; wait_port "$port" ;;
    meanwhile-logpipe)
      # stdout is a pipe into cat (on core 1, with the load client: the log's reader is not the server's CPU)
      (taskset -c 0 "$TOOL" serve "$site" --loops 1 --port "$port" 2>/dev/null | taskset -c 1 cat > /dev/null) &
      pids+=("$!"); wait_port "$port"; pid=$(pgrep -f "serve $site --loops 1 --port $port" | head -n 1); killpid=$pid ;;
  esac
}

# run NAME FILE PORT: one round; prints "req/s cpu_us_per_request p99_ms server_core_% client_core_%"
run() {
  local name=$1 file=$2 port=$3
  start "$name" "$port"
  # warm-up (and, for a JIT build, its tiering); a failed run stops the server before it fails the script
  load_run 64 "${WARMUP:-3}" "http://127.0.0.1:$port/$file" > /dev/null || { stop "$killpid"; return 1; }
  local before; before=$(python3 "$here/cputicks.py" "$pid")
  local out; out=$(load_run 64 "$DURATION" "http://127.0.0.1:$port/$file") || { stop "$killpid"; return 1; }
  local after; after=$(python3 "$here/cputicks.py" "$pid")
  stop "$killpid"
  local rps; rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  local p99; p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  local client; client=$(awk '/Client CPU seconds/ {print $4}' <<<"$out")
  python3 -c "import sys; r=float('$rps'); s=float('$after')-float('$before'); print(f\"{r:.0f} {s*1e6/(r*$DURATION):.1f} $p99 {100*s/$DURATION:.0f} {100*float('$client')/$DURATION:.0f}\")"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# compare LABEL FILE CONTESTANT...: ROUNDS alternated rounds; a row per contestant with median req/s, range, CPU per request
compare() {
  local label=$1 file=$2; shift 2
  declare -A rps cpu server_core client_core
  local port=$((PORT_BASE + 100))
  for round in $(seq 1 "$ROUNDS"); do
    for c in "$@"; do
      port=$((port + 1))
      read -r r u _ sc cc < <(run "$c" "$file" "$port")
      rps[$c]+="$r "; cpu[$c]+="$u "; server_core[$c]+="$sc "; client_core[$c]+="$cc "
      echo "# round $round $label $c: $r req/s, $u us CPU/req, cores $sc/$cc %"
    done
  done
  local base; base=$(tr ' ' '\n' <<<"${rps[$1]}" | grep . | median)
  for c in "$@"; do
    local m; m=$(tr ' ' '\n' <<<"${rps[$c]}" | grep . | median)
    local cu; cu=$(tr ' ' '\n' <<<"${cpu[$c]}" | grep . | median)
    local sc; sc=$(tr ' ' '\n' <<<"${server_core[$c]}" | grep . | median)
    local cc; cc=$(tr ' ' '\n' <<<"${client_core[$c]}" | grep . | median)
    # medians of per-round ratios to the first contestant: req/s and CPU per request
    local pr; pr=$(python3 -c "import statistics as s; a='${rps[$c]}'.split(); b='${rps[$1]}'.split(); x='${cpu[$c]}'.split(); y='${cpu[$1]}'.split(); print(f'{s.median(float(p)/float(q) for p,q in zip(a,b)):.2f}x rounds, CPU {s.median(float(p)/float(q) for p,q in zip(x,y)):.2f}x')")
    printf "%-10s %-18s %9.0f req/s  [%s]  %6.1f us CPU/req  %5.2fx (%s)  cores: server %3.0f%% client %3.0f%%\n" "$label" "$c" "$m" "$(tr ' ' '\n' <<<"${rps[$c]}" | grep . | sort -n | sed -n '1p;$p' | paste -sd-)" "$cu" "$(python3 -c "print($m/$base)")" "$pr" "$sc" "$cc"
  done
}

echo "# $(date -u +%FT%TZ) $(uptime)"
if [[ " $PART " == *" files "* ]]; then
  contestants=(nginx meanwhile); [ -n "${BASELINE_TOOL:-}" ] && contestants=(nginx meanwhile-base meanwhile)
  if [ -n "${FLOOR:-}" ]; then
    # FLOOR=1 adds the C floor (bench/server/static-floor.c) and the floor without its cachestat call
    FLOOR_BIN="$ARTIFACTS/static-floor"
    gcc -O2 -Wall -Wextra -Werror -o "$FLOOR_BIN" "$here/static-floor.c"
    contestants+=(floor floor-nocachestat)
  fi
  for f in ${FILES:-index.html 4k.bin 100k.bin 1m.bin}; do compare "$f" "$f" "${contestants[@]}"; done
  compare "cached" index.html nginx-cache meanwhile-cache
fi
if [[ " $PART " == *" log "* ]]; then
  compare "log" index.html nginx-log meanwhile-logfile meanwhile-logpipe meanwhile
fi
if [[ " $PART " == *" strace "* ]]; then
  # System calls per request on one keep-alive connection, 13-byte file (STRACE_FILE=100k.bin another): strace -f -c
  # while the load client runs with one connection.
  file="${STRACE_FILE:-index.html}"
  for c in nginx meanwhile; do
    port=$((RANDOM % 500 + PORT_BASE + 300))
    start "$c" "$port"
    load_run 1 1 "http://127.0.0.1:$port/$file" > /dev/null
    strace -f -c -o "$work/strace-$c.txt" -p "$pid" 2>/dev/null & tracer=$!
    sleep 1
    out=$(load_run 1 3 "http://127.0.0.1:$port/$file")
    kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
    stop "$killpid"
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    calls=$(awk 'NR>2 && $1 ~ /^[0-9.]+$/ && $NF!="total" {s+=$4} END {print s}' "$work/strace-$c.txt")
    echo "strace     $c: $calls calls / $requests requests = $(python3 -c "print(round($calls/$requests, 2))") per request: $(awk 'NR>2 && $NF!="total" && $1 ~ /^[0-9.]+$/ {printf "%s %s, ", $NF, $4}' "$work/strace-$c.txt")"
  done
fi
if [[ " $PART " == *" cold "* ]]; then
  # A cold 1 GiB download (its pages dropped with posix_fadvise, no global drop_caches on a shared machine) beside 64
  # clients of the cached 13-byte file: their p99.
  head -c 1073741824 /dev/zero | tr '\0' 'x' > "$site/1g.bin"
  for c in nginx meanwhile; do
    port=$((RANDOM % 500 + PORT_BASE + 500))
    # fsync first: dirty pages are not dropped
    python3 -c "import os; fd=os.open('$site/1g.bin', os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)"
    start "$c" "$port"
    taskset -c 1 curl -s -o /dev/null "http://127.0.0.1:$port/1g.bin" & dl=$!
    out=$(load_run 64 "$DURATION" "http://127.0.0.1:$port/index.html")
    kill "$dl" 2>/dev/null || true; wait "$dl" 2>/dev/null || true
    stop "$killpid"
    echo "cold       $c: small files beside a cold 1 GiB download: $(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s, p99 $(awk '$1=="99%" {print $2}' <<<"$out")"
  done
fi
if [[ " $PART " == *" memory "* ]]; then
  ulimit -n "$(ulimit -Hn)"
  for c in nginx meanwhile; do
    port=$((RANDOM % 400 + PORT_BASE + 600))
    start "$c" "$port"
    taskset -c 1 python3 "$here/idle_http.py" --label "static-$c" --port "$port" --pid "$pid" --count "${COUNT:-10000}"
    stop "$killpid"
  done
fi
