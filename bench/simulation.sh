#!/usr/bin/env bash
# Simulation benchmarks of issue 19, pinned to one core ($CPU, default 1), REPS rounds (default 3):
#   1. the seed's scenario at scale: N concurrent HTTP requests (default 10,000) from the real client to the real
#      server on a simulated network, each answered after 1 virtual second (examples/Simulation --scale N);
#   2. simulated stream messages: 1,000,000 writes of 32 bytes over one simulated TCP connection (--messages N).
# Each line gives wall and CPU time (the process's, warm: a smaller run goes first); on a shared machine the CPU time
# is the figure that means something. The program is the Native AOT publish (JIT=1: the JIT build). No peer: turmoil needs a Rust toolchain this machine has no registry for.
#
#   bench/simulation.sh
#   REPS=5 SCALE=10000 MESSAGES=1000000 bench/simulation.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
reps="${REPS:-3}"
cpu="${CPU:-1}"
artifacts="${ARTIFACTS:-/tmp/bench-artifacts-simulation}"
# The Native AOT publish by default (no JIT inside the measured runs); JIT=1 measures the framework-dependent build.
if [ "${JIT:-0}" = 1 ]; then
  dotnet build "$root/examples/Simulation" -c Release -v q -nologo --artifacts-path "$artifacts" > /dev/null
  program="$(find "$artifacts" -type f -name Simulation -path '*release*' | head -n 1)"
else
  dotnet publish "$root/examples/Simulation" -c Release -r linux-x64 -p:PublishAot=true -v q -nologo \
    --artifacts-path "$artifacts" -o "$artifacts/native" > /dev/null
  program="$artifacts/native/Simulation"
fi
echo "# $(git -C "$root" rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), $(uptime | sed 's/.*load/load/')"
for ((i = 1; i <= reps; i++)); do
  taskset -c "$cpu" "$program" --scale "${SCALE:-10000}"
  taskset -c "$cpu" "$program" --messages "${MESSAGES:-1000000}"
done
