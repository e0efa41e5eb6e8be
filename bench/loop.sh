#!/usr/bin/env bash
# Event-loop benchmarks of issue 2, Meanwhile against Node.js and Python asyncio, in one run.
#
#   bench/loop.sh                 # build Release, run everything REPS times, print medians and ratios
#   REPS=5 bench/loop.sh          # more repetitions
#   CPU=0 bench/loop.sh           # pin to another core
#   BASELINE=main bench/loop.sh   # also run the spawn benchmark of another commit, in the same repetitions
#
# Every process is pinned with `taskset -c $CPU` (default 1: on a 2-core machine the other core is left to the
# OS). Each benchmark runs as a fresh process per repetition (peak RSS belongs to one measurement), and the
# repetitions are interleaved so that a burst of outside load hits every implementation alike.
# Environment: REPS (3), CPU (1), ARTIFACTS (/tmp/bench-artifacts: the isolated build output),
# RESULTS (a file for the raw JSON lines; a temporary file by default), BASELINE (another checkout's directory, e.g.
# `git worktree add /tmp/before main`, or a git revision: its spawn rate is measured beside this tree's, as
# "baseline", in the same repetitions: a change's cost, before and after, in one run), ONLY=spawn (just the spawn rows),
# SPAWN_GC (default `DOTNET_gcConcurrent=0`: the spawn row again under this GC setting; the default is the non-concurrent
# GC, where the benchmark program runs the runtime's default, concurrent one; docs/architecture.md, "GC settings", says
# what each costs; several VAR=VALUE joined by commas, e.g. `DOTNET_gcConcurrent=0,DOTNET_GCgen0size=3000000`; empty: no
# such row).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=lib/baseline.sh
. "$here/lib/baseline.sh"
reps="${REPS:-3}"
cpu="${CPU:-1}"
artifacts="${ARTIFACTS:-/tmp/bench-artifacts}"
results="${RESULTS:-$(mktemp -t meanwhile-bench.XXXXXX.jsonl)}"
spawn_gc="${SPAWN_GC-DOTNET_gcConcurrent=0}"
IFS=, read -r -a spawn_gc_env <<< "$spawn_gc"
: > "$results"

need() { command -v "$1" > /dev/null || { echo "loop.sh: '$1' is required ($2)" >&2; exit 1; }; }
need dotnet "the .NET 10 SDK"
need taskset "util-linux"
need python3 "Python 3: runs the asyncio peer and prints the table"
have_node=1
command -v node > /dev/null || { have_node=0; echo "loop.sh: node not found; the Node.js column stays empty" >&2; }

echo "== machine"
echo "nproc:   $(nproc)"
echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "dotnet:  $(dotnet --version)"
[ "$have_node" = 1 ] && echo "node:    $(node --version)"
echo "python3: $(python3 --version 2>&1)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
echo "pinned:  taskset -c $cpu; $reps repetitions; raw results in $results"
echo "THP:     $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown); spawn GC setting row: ${spawn_gc:-none}"

echo "== build"
dotnet build "$root/bench/Meanwhile.Benchmarks" -c Release --artifacts-path "$artifacts" -nologo -v quiet
dll="$artifacts/bin/Meanwhile.Benchmarks/release/Meanwhile.Benchmarks.dll"
[ -f "$dll" ] || { echo "loop.sh: the build did not produce $dll" >&2; exit 1; }
baseline_dll=""
[ -n "${BASELINE:-}" ] && build_baseline "$BASELINE" "$artifacts" whole

run() { # run [--as IMPL] <label> <command...>: one pinned process, its JSON line appended to the results
  local impl=""
  if [ "$1" = "--as" ]; then impl="$2"; shift 2; fi
  local label="$1"; shift
  printf "  %-46s" "$label"
  local line
  if ! line="$(taskset -c "$cpu" "$@" --json)"; then
    echo "FAILED" >&2; exit 1
  fi
  [ -n "$impl" ] && line="$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["impl"]=sys.argv[2]; print(json.dumps(d))' "$line" "$impl")"
  echo "$line" >> "$results"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("  ".join(f"{k}={v:.4g}" if isinstance(v,float) else f"{k}={v}" for k,v in d.items() if k in ("rate","wall_s","peak_rss_mb","minor_faults","gen0","alloc_per_task","alloc_per_sleep","cpu_ms_per_s")))' "$line"
}

mw=(dotnet "$dll")
for rep in $(seq 1 "$reps"); do
  echo "== repetition $rep/$reps"
  run "spawn     meanwhile (1,000,000 x 7 runs)" "${mw[@]}" spawn --tasks 1000000 --runs 7
  [ -n "$spawn_gc" ] && run --as meanwhile-gc "spawn     meanwhile $spawn_gc" env "${spawn_gc_env[@]}" "${mw[@]}" spawn --tasks 1000000 --runs 7
  [ -n "$baseline_dll" ] && run --as baseline "spawn     baseline  (1,000,000 x 7 runs)" dotnet "$baseline_dll" spawn --tasks 1000000 --runs 7
  [ "${ONLY:-}" = spawn ] && continue
  [ "$have_node" = 1 ] && run "spawn     node      (1,000,000 x 5 runs)" node "$here/peers/spawn.js" --tasks 1000000 --runs 5
  run "spawn     asyncio   (200,000 x 5 runs)" python3 "$here/peers/spawn.py" --tasks 200000 --runs 5
  run "sleeps    meanwhile 100,000" "${mw[@]}" sleeps --count 100000
  [ "$have_node" = 1 ] && run "sleeps    node      100,000" node "$here/peers/sleeps.js" --count 100000
  run "sleeps    asyncio   100,000" python3 "$here/peers/sleeps.py" --count 100000
  run "sleeps    meanwhile 1,000,000 (spawned tasks)" "${mw[@]}" sleeps --count 1000000 --mode spawn
  run "sleeps    meanwhile 1,000,000 (async methods)" "${mw[@]}" sleeps --count 1000000 --mode direct
  run "sleeps    meanwhile 1,000,000 (bare Delays)" "${mw[@]}" sleeps --count 1000000 --mode timers
  run "idle      meanwhile 1 s" "${mw[@]}" idle --seconds 1
  [ "$have_node" = 1 ] && run "idle      node      1 s" node "$here/peers/idle.js" --seconds 1
  run "idle      asyncio   1 s" python3 "$here/peers/idle.py" --seconds 1
done

echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/summarize.py" "$results"
