#!/usr/bin/env bash
# What diagnostics cost (issue 20): plain req/s of `meanwhile echo` (1 loop, pinned to core 0) under wrk (core 1),
# with diagnostics off (--no-diagnostics), and on with `meanwhile top` attached (refreshing every second), rounds
# alternated (the order reversed every other round); with BASELINE=<git revision>, that revision's echo too (before this work: "off" against "today").
#
#   bench/diagnostics.sh                     # ROUNDS=3 DURATION=5s WARMUP=10s CONNECTIONS=50 PORT=25080
#   BASELINE=407e420 ROUNDS=11 bench/diagnostics.sh  # also the tool before diagnostics (main before the waves)
#   BASELINE_DLL=path/Meanwhile.Cli.dll bench/diagnostics.sh  # a baseline built already
#   TOGETHER=1 bench/diagnostics.sh          # the variants run at the same time, side by side on core 0
#
# Prints each round (with the load average), then for each variant the median req/s and the median and range of its
# per-round ratios to "off" (neighbours in time, so a load swing between rounds cancels out); the same for requests per
# CPU-second of the server process (all its threads, the diagnostics endpoint's included), which on a machine shared
# with other work tells the cost better than req/s: the server's share of its core varies, its CPU per request less.
# TOGETHER=1 runs the variants' servers at once, sharing core 0, each under its own wrk (all on core 1): whatever else
# the machine does then hits every variant in the same seconds, so their ratios hold under a load that swings.
# The warm-up is long because on a loaded machine the runtime's tiered JIT is still compiling seconds after start (a
# profile showed its thread at a quarter of the server's CPU 7 s in): measured then, a variant pays for its start-up.
# Ports: PORT to PORT+5 (the diagnostics engineer's range is 25000-25999). Build output: ARTIFACTS
# (/tmp/bench-artifacts-diagnostics).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-5s}"; WARMUP="${WARMUP:-10s}"; CONNECTIONS="${CONNECTIONS:-50}"; PORT="${PORT:-25080}"
ARTIFACTS="${ARTIFACTS:-/tmp/bench-artifacts-diagnostics}"
command -v wrk > /dev/null || { echo "diagnostics.sh: wrk is required" >&2; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at start; $ROUNDS rounds of wrk -t1 -c$CONNECTIONS -d$DURATION"
dotnet build "$root/src/Meanwhile.Cli" -c Release --artifacts-path "$ARTIFACTS" -nologo -v q | grep -E " error |rror\(s\)" || true
tool="$ARTIFACTS/bin/Meanwhile.Cli/release/Meanwhile.Cli.dll"
variants=(off on+top)
if [ -n "${BASELINE_DLL:-}" ]; then # a baseline built already
  baseline="$BASELINE_DLL"
  variants=(baseline off on+top)
elif [ -n "${BASELINE:-}" ]; then
  src="$(mktemp -d -t meanwhile-baseline.XXXXXX)"
  git -C "$root" archive "$BASELINE" | tar -x -C "$src"
  dotnet build "$src/src/Meanwhile.Cli" -c Release --artifacts-path "$ARTIFACTS-baseline" -nologo -v q | grep -E " error |rror\(s\)" || true
  baseline="$ARTIFACTS-baseline/bin/Meanwhile.Cli/release/Meanwhile.Cli.dll"
  variants=(baseline off on+top)
fi

wait_port() { for _ in $(seq 1 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

# CPU time the process's threads have used, in ns (per-thread schedstat: finer than /proc/PID/stat's 10 ms ticks).
cpu_ns() { local sum=0 ns _ t; for t in /proc/"$1"/task/*/schedstat; do read -r ns _ < "$t" 2>/dev/null && sum=$((sum + ns)); done; echo "$sum"; }

run() { # variant -> "req/s requests-per-server-CPU-second"
  local variant=$1 top_pid="" server
  start_server "$variant" "$PORT"; server=$started; pids+=("$server")
  wait_port "$PORT"
  if [ "$variant" = on+top ]; then attach_top "$server"; top_pid=$started; pids+=("$top_pid"); fi
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "http://127.0.0.1:$PORT/" > /dev/null # warm-up
  local before after out
  before=$(cpu_ns "$server")
  out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$PORT/")
  after=$(cpu_ns "$server")
  [ -n "$top_pid" ] && kill "$top_pid" 2>/dev/null || true
  kill "$server"; wait "$server" 2>/dev/null || true
  echo "$out" | awk -v cpu="$((after - before))" '/requests in/ {n = $1} /Requests\/sec/ {rps = $2} END {printf "%s %.0f\n", rps, n / (cpu / 1e9)}'
}

# Attaches `meanwhile top` (core 1) to a server and waits for its first frame: its start-up (a .NET process's JIT) is
# not part of what an attached top costs, and under load it could spill into the measured seconds. Sets $started.
attach_top() {
  local frames; frames=$(mktemp)
  taskset -c 1 dotnet "$tool" top "$1" --interval 1s > "$frames" 2>&1 &
  started=$!
  for _ in $(seq 1 600); do [ -s "$frames" ] && break; sleep 0.05; done
  [ -s "$frames" ] || { echo "top printed no frame" >&2; exit 1; }
  rm -f "$frames" # top keeps writing to the unlinked file
}

start_server() { # variant port; sets $started to the server's pid (a child of the caller's shell, which can wait for it)
  local variant=$1 port=$2 dll=$tool args=(--loops 1 --quiet --port "$2")
  case $variant in
    baseline) dll=$baseline ;;
    off) args+=(--no-diagnostics) ;;
  esac
  taskset -c 0 dotnet "$dll" echo "${args[@]}" > /dev/null 2>&1 &
  started=$!
}

together() { # one round, every variant at once -> "variant req/s per-cpu" lines
  local -A server=() port=() out=() before=()
  local i=0 variant top_pid="" wrks=()
  for variant in "${variants[@]}"; do
    port[$variant]=$((PORT + 2 * i)); i=$((i + 1))
    start_server "$variant" "${port[$variant]}"; server[$variant]=$started; pids+=("$started")
  done
  for variant in "${variants[@]}"; do wait_port "${port[$variant]}"; done
  attach_top "${server[on+top]}"; top_pid=$started; pids+=("$top_pid")
  for variant in "${variants[@]}"; do taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "http://127.0.0.1:${port[$variant]}/" > /dev/null & wrks+=($!); done
  wait "${wrks[@]}"; wrks=()
  local dir; dir=$(mktemp -d)
  for variant in "${variants[@]}"; do before[$variant]=$(cpu_ns "${server[$variant]}"); done
  for variant in "${variants[@]}"; do taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:${port[$variant]}/" > "$dir/$variant" & wrks+=($!); done
  wait "${wrks[@]}"
  for variant in "${variants[@]}"; do
    awk -v v="$variant" -v cpu="$(( $(cpu_ns "${server[$variant]}") - before[$variant] ))" \
      '/requests in/ {n = $1} /Requests\/sec/ {rps = $2} END {printf "%s %s %.0f\n", v, rps, n / (cpu / 1e9)}' "$dir/$variant"
  done
  rm -rf "$dir"
  kill "$top_pid" "${server[@]}" 2>/dev/null || true
  wait "${server[@]}" 2>/dev/null || true
}

declare -A results ratios cpu_results cpu_ratios
for round in $(seq 1 "$ROUNDS"); do
  declare -A round_rps=() round_cpu=()
  line="round $round:"
  order=("${variants[@]}")
  if (( round % 2 == 0 )); then order=(); for ((i = ${#variants[@]} - 1; i >= 0; i--)); do order+=("${variants[i]}"); done; fi
  if [ -n "${TOGETHER:-}" ]; then
    while read -r variant rps per_cpu; do round_rps[$variant]=$rps; round_cpu[$variant]=$per_cpu; done < <(together)
  else
    for variant in "${order[@]}"; do read -r rps per_cpu < <(run "$variant"); round_rps[$variant]=$rps; round_cpu[$variant]=$per_cpu; done
  fi
  for variant in "${order[@]}"; do
    results[$variant]+="${round_rps[$variant]} "; cpu_results[$variant]+="${round_cpu[$variant]} "
    line+=" $variant ${round_rps[$variant]} (${round_cpu[$variant]}/cpu-s)"
  done
  for variant in "${variants[@]}"; do
    ratios[$variant]+="$(awk -v a="${round_rps[$variant]}" -v b="${round_rps[off]}" 'BEGIN {printf "%.3f", a/b}') "
    cpu_ratios[$variant]+="$(awk -v a="${round_cpu[$variant]}" -v b="${round_cpu[off]}" 'BEGIN {printf "%.3f", a/b}') "
  done
  echo "$line  (load $(cut -d' ' -f1-3 /proc/loadavg))"
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
summary() { # label, values, per-round ratios
  local m r
  m=$(echo "$2" | median)
  r=$(echo "$3" | tr ' ' '\n' | grep -v '^$' | sort -n)
  echo "  $1 median $m, per-round ratio to off: median $(echo "$r" | median), range $(echo "$r" | head -1)-$(echo "$r" | tail -1)"
}
for variant in "${variants[@]}"; do
  echo "$variant:"
  summary "req/s" "${results[$variant]}" "${ratios[$variant]}"
  summary "requests per server CPU-second" "${cpu_results[$variant]}" "${cpu_ratios[$variant]}"
done
