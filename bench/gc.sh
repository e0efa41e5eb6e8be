#!/usr/bin/env bash
# What the .NET GC's memory churn costs the spawn benchmark, with the runtime's default GC (workstation, concurrent)
# and other settings, beside Node.js and the C floor of a page fault, in one run (issue 16;
# docs/benchmarks.md "Event loop", docs/architecture.md "GC settings"). Alternated rounds, every process pinned with
# taskset; prints medians per setting: tasks/s, the per-round ratio to Node.js, minor page faults and GCs per run of
# 1,000,000 tasks, peak RSS, and the process's faults and CPU seconds (user, system: what load does not change much,
# unlike the rate).
#
#   bench/gc.sh                                    # ROUNDS=5 CPU=1; the default SETTINGS
#   SETTINGS="- DOTNET_GCgen0size=3000000" bench/gc.sh   # "-" is the runtime's defaults; one setting may hold several
#                                                  # VAR=VALUE joined by commas (DOTNET_gcConcurrent=0,DOTNET_GCgen0size=3000000)
#   BIN=/tmp/final/gc11/Meanwhile.Benchmarks bench/gc.sh   # a Native AOT build instead of `dotnet` + the JIT build
#   BATCH=100 bench/gc.sh                          # tasks spawned (and so alive) at a time, both sides; default 10000
#
# GC numbers in DOTNET_ variables are hexadecimal; write them without "0x" (Native AOT ignores a value with it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
rounds="${ROUNDS:-5}"
cpu="${CPU:-1}"
batch="${BATCH:-10000}"
artifacts="${ARTIFACTS:-/tmp/bench-artifacts}"
read -r -a settings <<< "${SETTINGS:-- DOTNET_gcConcurrent=0 DOTNET_gcConcurrent=0,DOTNET_GCgen0size=2000000 DOTNET_gcConcurrent=0,DOTNET_GCgen0size=3000000 DOTNET_GCgen0size=3000000}"

command -v gcc > /dev/null || { echo "gc.sh: gcc is required (the page-fault floor)" >&2; exit 1; }
floor="$artifacts/pagefault"
mkdir -p "$artifacts"
gcc -O2 -Wall -o "$floor" "$here/gc/pagefault.c"
if [ -n "${BIN:-}" ]; then
  meanwhile=("$BIN")
else
  dotnet build "$root/bench/Meanwhile.Benchmarks" -c Release --artifacts-path "$artifacts" -nologo -v quiet > /dev/null
  meanwhile=(dotnet "$artifacts/bin/Meanwhile.Benchmarks/release/Meanwhile.Benchmarks.dll")
fi
have_node=1
command -v node > /dev/null || { have_node=0; echo "gc.sh: node not found; no ratio to Node.js" >&2; }
results="$(mktemp -t meanwhile-gc.XXXXXX)"
echo "commit: $(git -C "$root" rev-parse --short HEAD); meanwhile: ${meanwhile[*]}; taskset -c $cpu; $rounds rounds; batch $batch; raw: $results"
echo "THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown); uptime at start: $(uptime)"

run() { # label, env (or -), command...: one pinned process; its JSON line, tagged, appended to the results
  local label="$1" setting="$2"; shift 2
  local envs=() line faults
  [ "$setting" != "-" ] && IFS=, read -r -a envs <<< "$setting"
  line="$(env "${envs[@]}" /usr/bin/time -f "%R %U %S" -o "$results.time" taskset -c "$cpu" "$@" --json)"
  read -r faults user sys < <(tail -1 "$results.time")
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["label"]=sys.argv[2]; d["process_faults"]=int(sys.argv[3]); d["user_s"]=float(sys.argv[4]); d["sys_s"]=float(sys.argv[5]); print(json.dumps(d))' \
    "$line" "$label" "$faults" "$user" "$sys" >> "$results"
  printf '  %-36s %s\n' "$label" "$(tail -1 "$results" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(f"{k}={d[k]:.4g}" for k in ("rate","minor_faults","gen0","gen1","peak_rss_mb","process_faults","user_s","sys_s","fresh_ns_per_page","recommit_ns_per_page","reuse_ns_per_page","huge_ns_per_page") if k in d))')"
}

for round in $(seq 1 "$rounds"); do
  echo "== round $round/$rounds (load $(cut -d' ' -f1-3 /proc/loadavg))"
  run "floor" - "$floor" --rounds 3
  for setting in "${settings[@]}"; do
    run "spawn $setting" "$setting" "${meanwhile[@]}" spawn --tasks 1000000 --runs 5 --batch "$batch"
  done
  [ "$have_node" = 1 ] && run "node" - node "$here/peers/spawn.js" --tasks 1000000 --runs 5 --batch "$batch"
done
echo "uptime at end: $(uptime)"
python3 - "$results" <<'EOF'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    d = json.loads(line)
    rows[d["label"]].append(d)
med = lambda rs, k: statistics.median(r[k] for r in rs) if rs and all(k in r for r in rs) else None
floor = rows.get("floor", [])
if floor:
    print("C floor, ns per 4 KiB page (median of rounds): first touch %.0f, decommit+recommit+clear %.0f, clear kept memory %.0f, "
          "first touch with huge pages %.0f" % tuple(med(floor, k) for k in ("fresh_ns_per_page", "recommit_ns_per_page", "reuse_ns_per_page", "huge_ns_per_page")))
node = rows.get("node", [])
print(f"{'':36} {'tasks/s':>9} {'/Node':>6} {'faults/run':>10} {'gen0':>5} {'gen1':>5} {'peak RSS':>9} {'proc faults':>11} {'user s':>7} {'sys s':>6}")
for label, rs in rows.items():
    if label == "floor": continue
    ratio = ""
    if node and label != "node":
        ratio = f"{statistics.median(a['rate'] / b['rate'] for a, b in zip(rs, node)):.2f}x"
    f = lambda k, fmt: "" if med(rs, k) is None else format(med(rs, k), fmt)
    print(f"{label:36} {med(rs, 'rate') / 1e6:>7.2f} M {ratio:>6} {f('minor_faults', ',.0f'):>10} {f('gen0', '.0f'):>5} {f('gen1', '.0f'):>5} "
          f"{f('peak_rss_mb', '.1f'):>6} MB {f('process_faults', ',.0f'):>11} {f('user_s', '.2f'):>7} {f('sys_s', '.2f'):>6}")
print("(rates: median of rounds; /Node: median of per-round ratios; faults/run and GCs: per 1,000,000 tasks, measured runs only;"
      " proc faults, user and system CPU seconds: the whole process, warm-up included)")
EOF
rm -f "$results.time"
