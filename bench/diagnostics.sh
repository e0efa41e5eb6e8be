#!/usr/bin/env bash
# What diagnostics cost (issue 20): plain req/s of `meanwhile echo` (1 loop, pinned to core 0) under wrk (core 1),
# with diagnostics off (--no-diagnostics), and on with `meanwhile top` attached (refreshing every second), rounds
# alternated; with BASELINE=<git revision>, that revision's echo too (before this work: "off" against "today").
#
#   bench/diagnostics.sh                     # ROUNDS=3 DURATION=5s CONNECTIONS=50 PORT=25080
#   BASELINE=httpshape bench/diagnostics.sh  # also the tool as it was at that revision
#
# Prints each round, then the median req/s of each variant and its ratio to "off". Ports: PORT and PORT+1 (the
# diagnostics engineer's range is 25000-25999). Build output: ARTIFACTS (/tmp/bench-artifacts-diagnostics).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-5s}"; CONNECTIONS="${CONNECTIONS:-50}"; PORT="${PORT:-25080}"
ARTIFACTS="${ARTIFACTS:-/tmp/bench-artifacts-diagnostics}"
command -v wrk > /dev/null || { echo "diagnostics.sh: wrk is required" >&2; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at start; $ROUNDS rounds of wrk -t1 -c$CONNECTIONS -d$DURATION"
dotnet build "$root/src/Meanwhile.Cli" -c Release --artifacts-path "$ARTIFACTS" -nologo -v q | grep -E " error |rror\(s\)" || true
tool="$ARTIFACTS/bin/Meanwhile.Cli/release/Meanwhile.Cli.dll"
variants=(off on+top)
if [ -n "${BASELINE:-}" ]; then
  src="$(mktemp -d -t meanwhile-baseline.XXXXXX)"
  git -C "$root" archive "$BASELINE" | tar -x -C "$src"
  dotnet build "$src/src/Meanwhile.Cli" -c Release --artifacts-path "$ARTIFACTS-baseline" -nologo -v q | grep -E " error |rror\(s\)" || true
  baseline="$ARTIFACTS-baseline/bin/Meanwhile.Cli/release/Meanwhile.Cli.dll"
  variants=(baseline off on+top)
fi

wait_port() { for _ in $(seq 1 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

run() { # variant -> req/s
  local variant=$1 dll=$tool args=(--loops 1 --quiet --port "$PORT") top_pid=""
  case $variant in
    baseline) dll=$baseline ;;
    off) args+=(--no-diagnostics) ;;
  esac
  taskset -c 0 dotnet "$dll" echo "${args[@]}" > /dev/null 2>&1 &
  local server=$!; pids+=("$server")
  wait_port "$PORT"
  if [ "$variant" = on+top ]; then
    taskset -c 1 dotnet "$tool" top "$server" --interval 1s > /dev/null 2>&1 &
    top_pid=$!; pids+=("$top_pid")
  fi
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$PORT/" > /dev/null # warm-up
  local rps
  rps=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$PORT/" | awk '/Requests\/sec/ {print $2}')
  [ -n "$top_pid" ] && kill "$top_pid" 2>/dev/null || true
  kill "$server"; wait "$server" 2>/dev/null || true
  echo "$rps"
}

declare -A results
for round in $(seq 1 "$ROUNDS"); do
  line="round $round:"
  for variant in "${variants[@]}"; do
    rps=$(run "$variant")
    results[$variant]+="$rps "
    line+=" $variant $rps"
  done
  echo "$line  (load $(cut -d' ' -f1 /proc/loadavg))"
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
off=$(echo "${results[off]}" | median)
for variant in "${variants[@]}"; do
  m=$(echo "${results[$variant]}" | median)
  echo "$variant: median $m req/s, $(awk -v a="$m" -v b="$off" 'BEGIN {printf "%.3f", a/b}') of off (rounds: ${results[$variant]})"
done
