#!/usr/bin/env bash
# Simulation benchmarks of issue 19, pinned to one core ($CPU, default 1), REPS rounds (default 3):
#   1. the seed's scenario at scale: N concurrent HTTP requests (default 10,000) from the real client to the real
#      server on a simulated network, each answered after 1 virtual second (examples/Simulation --scale N);
#   2. simulated stream messages: 1,000,000 writes of 32 bytes over one simulated TCP connection (--messages N).
# Each line gives wall and CPU time (the process's, warm: a smaller run goes first) and what the GC did; on a shared
# machine the CPU time is the figure that means something. The program is the Native AOT publish (JIT=1: the JIT
# build). BASELINE=REV also builds that commit's example (from git archive, beside the artifacts) and alternates the two, round by
# round, so a change is measured against its base in one run. No peer: turmoil needs a Rust toolchain this machine
# has no registry for.
#
#   bench/simulation.sh
#   REPS=5 SCALE=10000 MESSAGES=1000000 BASELINE=main bench/simulation.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
reps="${REPS:-3}"
cpu="${CPU:-1}"
artifacts="${ARTIFACTS:-/tmp/bench-artifacts-simulation}"

# Builds the example from the tree at $1 into $2; prints the program's path.
build() {
  local tree="$1" out="$2"
  if [ "${JIT:-0}" = 1 ]; then
    dotnet build "$tree/examples/Simulation" -c Release -v q -nologo --artifacts-path "$out" > /dev/null
    find "$out" -type f -name Simulation -path '*release*' | head -n 1
  else
    # The instruction set and optimization preference of the tool's publish (a baseline gets them too: like with like).
    dotnet publish "$tree/examples/Simulation" -c Release -r linux-x64 -p:PublishAot=true -v q -nologo \
      -p:IlcInstructionSet=x86-64-v2 -p:OptimizationPreference=Speed --artifacts-path "$out" -o "$out/native" > /dev/null
    echo "$out/native/Simulation"
  fi
}

programs=("$(build "$root" "$artifacts/current")")
names=("$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD || echo +changes)")
if [ -n "${BASELINE:-}" ]; then
  base_tree="$artifacts/baseline-tree"
  rm -rf "$base_tree" && mkdir -p "$base_tree"
  git -C "$root" archive "$BASELINE" | tar -x -C "$base_tree"
  programs=("$(build "$base_tree" "$artifacts/baseline")" "${programs[0]}")
  names=("$(git -C "$root" rev-parse --short "$BASELINE") (baseline)" "${names[0]}")
fi
echo "# $(date -u +%Y-%m-%dT%H:%MZ), core $cpu, $(uptime | sed 's/.*load/load/')"
for ((i = 1; i <= reps; i++)); do
  for run in "--scale ${SCALE:-10000}" "--messages ${MESSAGES:-1000000}"; do
    for p in "${!programs[@]}"; do
      echo -n "${names[$p]}: "
      taskset -c "$cpu" "${programs[$p]}" $run
    done
  done
done
echo "# end, $(uptime | sed 's/.*load/load/')"
