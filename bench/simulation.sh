#!/usr/bin/env bash
# Simulation benchmarks of issue 19, pinned to one core ($CPU, default 1), REPS rounds (default 3):
#   1. the seed's scenario at scale: N concurrent HTTP requests (default 10,000) from the real client to the real
#      server on a simulated network, each answered after 1 virtual second (examples/Simulation --scale N);
#   2. simulated stream messages: 1,000,000 writes of 32 bytes over one simulated TCP connection (--messages N).
# Each line gives wall and CPU time and what the GC did; on a shared machine the CPU time is the figure that means
# something. The scale run prints two lines after a 1,000-request warm-up (the JIT): first, the first run of its size in
# the process, and again, the same run once more (as a test suite runs one simulation after another), each with its minor
# page faults: a fresh page costs microseconds on some VMs (bench/gc/pagefault.c, run in every round), and nearly all of
# the run's memory is fresh. The program is the Native AOT publish (JIT=1: the JIT
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
# The C floor of a page fault in the same rounds: the VM's phases change what a fresh page costs.
floor=""
if command -v gcc > /dev/null; then floor="$artifacts/pagefault"; gcc -O2 -o "$floor" "$here/gc/pagefault.c"; fi
echo "# $(date -u +%Y-%m-%dT%H:%MZ), core $cpu, $(uptime | sed 's/.*load/load/')"
for ((i = 1; i <= reps; i++)); do
  for run in "--scale ${SCALE:-10000}" "--messages ${MESSAGES:-1000000}"; do
    for p in "${!programs[@]}"; do
      echo -n "${names[$p]}: "
      taskset -c "$cpu" "${programs[$p]}" $run
    done
  done
  if [ -n "$floor" ]; then echo -n "page fault floor: "; taskset -c "$cpu" "$floor" --rounds 3 | tr '\n' ' '; echo; fi
done
echo "# end, $(uptime | sed 's/.*load/load/')"
