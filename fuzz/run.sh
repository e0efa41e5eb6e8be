#!/usr/bin/env bash
# Fuzzes one target of fuzz/Meanwhile.Fuzz with AFL++ through SharpFuzz, then reports what it found.
#
# usage: fuzz/run.sh request|chunked|response [MINUTES]     (default 30 minutes)
#
# Installs afl++ (Debian) and the sharpfuzz instrumenter (a .NET tool) when missing, publishes the harness,
# instruments Meanwhile.Http.dll (the code under test; the harness itself stays uninstrumented), seeds from
# fuzz/corpus/TARGET, fuzz/regressions/TARGET and, for requests, the conformance corpus in tests/conformance,
# and mutates with the HTTP tokens of fuzz/http.dict.
# Findings land in $FUZZ_WORK/TARGET/out/default/{crashes,hangs}; replay one with an uninstrumented build (the
# instrumented one only runs under afl-fuzz):
#   dotnet run --project fuzz/Meanwhile.Fuzz -- TARGET FILE
# and, once fixed, copy it into fuzz/regressions/TARGET/ (the tests replay that folder).
set -euo pipefail

target=${1:?usage: fuzz/run.sh request|chunked|response [MINUTES]}
minutes=${2:-30}
case $target in request|chunked|response) ;; *) echo "unknown target: $target" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-/tmp/meanwhile-fuzz}
mkdir -p "$work"

if ! command -v afl-fuzz >/dev/null; then
  apt-get install -y afl++ >/dev/null
fi
if [ ! -x "$work/tools/sharpfuzz" ]; then
  dotnet tool install --tool-path "$work/tools" SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi

# One published, instrumented copy shared by all targets (fuzzers may run side by side).
if [ ! -f "$work/bin/.instrumented" ] || [ -n "$(find "$root/src/Meanwhile.Http" "$root/fuzz/Meanwhile.Fuzz" -name '*.cs' -newer "$work/bin/.instrumented")" ]; then
  rm -rf "$work/bin"
  dotnet publish "$root/fuzz/Meanwhile.Fuzz" -c Release -o "$work/bin" --nologo -v quiet
  "$work/tools/sharpfuzz" "$work/bin/Meanwhile.Http.dll"
  touch "$work/bin/.instrumented"
fi

seeds="$work/$target/seeds"
rm -rf "$seeds" && mkdir -p "$seeds"
cp "$root/fuzz/corpus/$target/"* "$seeds/"
if [ -d "$root/fuzz/regressions/$target" ]; then cp "$root/fuzz/regressions/$target/"* "$seeds/" 2>/dev/null || true; fi
conformance="$root/tests/conformance/http1-llhttp.jsonl"
if [ "$target" = request ] && [ -f "$conformance" ]; then
  python3 - "$conformance" "$seeds" <<'PY'
import base64, json, sys
for line in open(sys.argv[1]):
    case = json.loads(line)
    open(f"{sys.argv[2]}/conformance-{case['id']}", "wb").write(base64.b64decode(case["raw_base64"]))
PY
fi

out="$work/$target/out"
rm -rf "$out"
# Fuzzers share the two cores with each other: no CPU binding. A 10 s limit per input catches hangs without
# mistaking a cold .NET start for one.
AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
  afl-fuzz -i "$seeds" -o "$out" -x "$root/fuzz/http.dict" -t 10000 -m none -V $((minutes * 60)) -- "$work/bin/Meanwhile.Fuzz" "$target" \
  > "$work/$target/afl.log" 2>&1 || { tail -30 "$work/$target/afl.log" >&2; exit 1; }

stats="$out/default/fuzzer_stats"
field() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
crashes=$(find "$out/default/crashes" -type f -name 'id:*' | wc -l)
hangs=$(find "$out/default/hangs" -type f -name 'id:*' | wc -l)
echo "$target: $(field run_time) s, $(field execs_done) executions ($(field execs_per_sec)/s), corpus $(field corpus_count), edges $(field edges_found) ($(field bitmap_cvg)), crashes $crashes, hangs $hangs"
[ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ]
