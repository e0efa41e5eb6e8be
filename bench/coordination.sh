#!/usr/bin/env bash
# Coordination benchmarks of issue 16, in one run: Meanwhile's LoopQueue and LoopLock against .NET's Channel<T> and
# SemaphoreSlim used on the same loop, and against Python asyncio's Queue and Lock; memory per blocked waiter.
#
#   bench/coordination.sh            # build Release, run everything REPS times, print medians and ratios
#   REPS=7 CPU=0 bench/coordination.sh
#   BASELINE=/tmp/before bench/coordination.sh   # also the lock and queue of another checkout (or git revision)
#
# Every process is pinned with `taskset -c $CPU` (default 1) and runs one measurement; repetitions are interleaved so
# that a burst of outside load hits every contestant alike. Each .NET measurement warms up for WARMUP seconds first
# (tiered JIT needs seconds, on one core, to reach its optimized code). Environment: REPS (5), CPU (1), WARMUP (5),
# ARTIFACTS (/tmp/bench-artifacts), RESULTS (a file for the raw JSON lines; a temporary file by default), BASELINE (a
# checkout's directory or a git revision: its library, built with this tree's benchmark program, runs the Meanwhile
# lock and queue rows as "baseline" in the same repetitions: a change's effect, before and after, in one run).
# The lock rows include two floors: "yield" (the same two tasks with no lock, a task switch through the loop's ready
# queue per turn) and "bare" (two async methods passing a baton through a plain queue, no loop: .NET's own await).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=lib/baseline.sh
. "$here/lib/baseline.sh"
reps="${REPS:-5}"
cpu="${CPU:-1}"
warmup="${WARMUP:-5}"
artifacts="${ARTIFACTS:-/tmp/bench-artifacts}"
results="${RESULTS:-$(mktemp -t meanwhile-coordination.XXXXXX.jsonl)}"
: > "$results"

need() { command -v "$1" > /dev/null || { echo "coordination.sh: '$1' is required ($2)" >&2; exit 1; }; }
need dotnet "the .NET 10 SDK"
need taskset "util-linux"
need python3 "Python 3: runs the asyncio peer and prints the table"

echo "== machine"
echo "nproc:   $(nproc)"
echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "dotnet:  $(dotnet --version)"
echo "python3: $(python3 --version 2>&1)"
echo "commit:  $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
echo "pinned:  taskset -c $cpu; $reps repetitions; raw results in $results"

echo "== build"
dotnet build "$root/bench/Meanwhile.Benchmarks" -c Release --artifacts-path "$artifacts" -nologo -v quiet
dll="$artifacts/bin/Meanwhile.Benchmarks/release/Meanwhile.Benchmarks.dll"
[ -f "$dll" ] || { echo "coordination.sh: the build did not produce $dll" >&2; exit 1; }
baseline_dll=""
[ -n "${BASELINE:-}" ] && build_baseline "$BASELINE" "$artifacts" library

run() { # run [--as IMPL] <label> <command...>: one pinned process, its JSON line appended to the results
  local impl=""
  if [ "$1" = "--as" ]; then impl="$2"; shift 2; fi
  local label="$1"; shift
  printf "  %-44s" "$label"
  local line
  if ! line="$(taskset -c "$cpu" "$@" --json)"; then
    echo "FAILED" >&2; exit 1
  fi
  [ -n "$impl" ] && line="$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["impl"]=sys.argv[2]; print(json.dumps(d))' "$line" "$impl")"
  echo "$line" >> "$results"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("  ".join(f"{k}={v:.4g}" if isinstance(v,float) else f"{k}={v}" for k,v in d.items() if k in ("rate","cpu_ns_per_op","alloc_per_op","bytes_per_wait","bytes_per_task")))' "$line"
}

mw=(dotnet "$dll")
py=(python3 "$here/peers/coordination.py")
for rep in $(seq 1 "$reps"); do
  echo "== repetition $rep/$reps"
  for mode in single batch; do
    run "queue $mode  meanwhile" "${mw[@]}" queue --impl meanwhile --mode "$mode" --warmup-seconds "$warmup"
    [ -n "$baseline_dll" ] && run --as baseline "queue $mode  baseline" dotnet "$baseline_dll" queue --impl meanwhile --mode "$mode" --warmup-seconds "$warmup"
    run "queue $mode  Channel<T>" "${mw[@]}" queue --impl channel --mode "$mode" --warmup-seconds "$warmup"
    run "queue $mode  asyncio" "${py[@]}" queue --mode "$mode"
  done
  for hold in none yield; do
    run "lock $hold  meanwhile" "${mw[@]}" lock --impl meanwhile --hold "$hold" --warmup-seconds "$warmup"
    [ -n "$baseline_dll" ] && run --as baseline "lock $hold  baseline" dotnet "$baseline_dll" lock --impl meanwhile --hold "$hold" --warmup-seconds "$warmup"
    run "lock $hold  SemaphoreSlim(1)" "${mw[@]}" lock --impl semaphoreslim --hold "$hold" --warmup-seconds "$warmup"
    if [ "$hold" = none ]; then
      run "lock $hold  floor: yield, no lock" "${mw[@]}" lock --impl yield --warmup-seconds "$warmup"
      run "lock $hold  floor: bare .NET await" "${mw[@]}" lock --impl bare --warmup-seconds "$warmup"
    fi
    run "lock $hold  asyncio" "${py[@]}" lock --hold "$hold"
  done
  for impl in meanwhile semaphoreslim channel; do
    run "waiters  $impl" "${mw[@]}" waiters --impl "$impl"
  done
  run "waiters  asyncio" "${py[@]}" waiters
done

echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/summarize_coordination.py" "$results"
