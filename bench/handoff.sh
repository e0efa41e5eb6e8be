#!/usr/bin/env bash
# A task switch through the loop, before and after a change, in one run (issue 16): the lock hand-off and its floors in
# CPU ns per operation, and the spawn rate against Node.js. Short processes, alternated, so that a loaded machine hits
# every contestant alike; prints the minimum (the least disturbed run) and the median of each.
#
#   BASELINE=e50a8ac bench/handoff.sh          # ROUNDS=6 CPU=1; BASELINE: a git revision (its library and benchmark program)
#   ONLY=lock bench/handoff.sh                 # or ONLY=spawn
#
# Lock rows: `Meanwhile.Benchmarks lock --impl meanwhile|semaphoreslim|yield|bare|bare-awaiter` (1,000,000 hand-offs x 3 runs after a
# 2 s warm-up). Spawn rows: `Meanwhile.Benchmarks spawn --tasks 1000000 --runs 5` with the runtime's default GC, the same
# with SPAWN_GC (default `DOTNET_gcConcurrent=0`: the non-concurrent GC, whose page-fault churn docs/architecture.md
# describes, "GC settings"; empty: no such row; several VAR=VALUE joined by commas), and
# bench/peers/spawn.js, with the C floor of a page fault (bench/gc/pagefault.c: ns per fresh 4 KiB page) in the same
# rounds when gcc is there. Every process is pinned with taskset.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=lib/baseline.sh
. "$here/lib/baseline.sh"
rounds="${ROUNDS:-6}"
spawn_gc="${SPAWN_GC-DOTNET_gcConcurrent=0}"
IFS=, read -r -a spawn_gc_env <<< "$spawn_gc"
cpu="${CPU:-1}"
artifacts="${ARTIFACTS:-/tmp/bench-artifacts}"

echo "commit: $(git -C "$root" rev-parse --short HEAD); baseline: ${BASELINE:-none}; taskset -c $cpu; $rounds rounds; spawn-gc row: ${spawn_gc:-none}"
echo "uptime at start: $(uptime)"
dotnet build "$root/bench/Meanwhile.Benchmarks" -c Release --artifacts-path "$artifacts" -nologo -v quiet > /dev/null
declare -A dll=([new]="$artifacts/bin/Meanwhile.Benchmarks/release/Meanwhile.Benchmarks.dll")
if [ -n "${BASELINE:-}" ]; then
  build_baseline "$BASELINE" "$artifacts" whole > /dev/null
  dll[base]="$baseline_dll"
fi
versions=(new); [ -n "${BASELINE:-}" ] && versions=(base new)
floor=""
if command -v gcc > /dev/null; then floor="$artifacts/pagefault"; gcc -O2 -o "$floor" "$here/gc/pagefault.c"; fi
results="$(mktemp -t meanwhile-handoff.XXXXXX)"

measure() { # label, figure (a JSON key), command...
  local label="$1" key="$2"; shift 2
  local value
  value="$(taskset -c "$cpu" "$@" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$key")"
  echo "$label $value" >> "$results"
  printf '  %-28s %s\n' "$label" "$value"
}

for round in $(seq 1 "$rounds"); do
  echo "== round $round/$rounds (load $(cut -d' ' -f1-3 /proc/loadavg))"
  if [ "${ONLY:-lock}" = lock ]; then
    for impl in meanwhile semaphoreslim yield bare bare-awaiter; do
      for v in "${versions[@]}"; do
        [ "$impl" = bare-awaiter ] && [ "$v" = base ] && continue # a floor added after most baselines
        measure "lock-$impl-$v" cpu_ns_per_op dotnet "${dll[$v]}" lock --impl "$impl" --ops 1000000 --runs 3 --warmup-seconds 2
      done
    done
  fi
  if [ "${ONLY:-spawn}" = spawn ]; then
    for v in "${versions[@]}"; do
      measure "spawn-$v" rate dotnet "${dll[$v]}" spawn --tasks 1000000 --runs 5
    done
    [ -n "$spawn_gc" ] && measure "spawn-new-gc" rate env "${spawn_gc_env[@]}" dotnet "${dll[new]}" spawn --tasks 1000000 --runs 5
    measure "spawn-node" rate node "$here/peers/spawn.js" --tasks 1000000 --runs 5
    if [ -n "$floor" ]; then measure "floor-fault-ns-per-page" fresh_ns_per_page "$floor" --rounds 3; fi
  fi
done
echo "uptime at end: $(uptime)"
python3 - "$results" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, value = line.split()
    rows[label].append(float(value))
print(f"{'':28} {'min':>10} {'median':>10}  (lock: CPU ns per hand-off; spawn: tasks/s; floor: ns per first touch of a 4 KiB page)")
for label, values in rows.items():
    print(f"{label:28} {min(values):>10.4g} {statistics.median(values):>10.4g}")
def ratio(a, b, pick):
    if a in rows and b in rows: print(f"{a} / {b}: {pick(rows[a]) / pick(rows[b]):.2f}x ({pick.__name__})")
for v in ("base", "new"):
    ratio(f"lock-semaphoreslim-{v}", f"lock-meanwhile-{v}", min)
    ratio(f"lock-semaphoreslim-{v}", f"lock-meanwhile-{v}", statistics.median)
    ratio(f"spawn-{v}", "spawn-node", statistics.median)
ratio("spawn-new-gc", "spawn-node", statistics.median)
EOF
