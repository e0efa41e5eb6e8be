# Sourced by the benchmark scripts that compare this tree with another version in one run (loop.sh, coordination.sh,
# handoff.sh): builds that version's Meanwhile.Benchmarks and sets baseline_dll to it.
#
#   build_baseline BASELINE ARTIFACTS MODE
#     BASELINE  a checkout (a directory) or a git revision of this repository
#     ARTIFACTS this run's build output; the baseline's goes to ARTIFACTS-baseline
#     MODE      whole: that version's library and benchmark program;
#               library: its library with this tree's benchmark program (commands older programs lack)
build_baseline() {
  local baseline=$1 artifacts=$2 mode=$3 root rev src
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  if [ -d "$baseline" ]; then
    rev="$(git -C "$baseline" rev-parse --short HEAD 2>/dev/null || echo "$baseline")"
    if [ "$mode" = whole ]; then
      src="$baseline"
    else
      src="$(mktemp -d -t meanwhile-baseline.XXXXXX)"
      cp -r "$baseline/src" "$baseline/Directory.Build.props" "$src/"
      [ -f "$baseline/.editorconfig" ] && cp "$baseline/.editorconfig" "$src/"
    fi
  else
    rev="$(git -C "$root" rev-parse --short "$baseline")"
    src="$(mktemp -d -t meanwhile-baseline.XXXXXX)"
    if [ "$mode" = whole ]; then
      git -C "$root" archive "$rev" | tar -x -C "$src"
    else
      git -C "$root" archive "$rev" src Directory.Build.props .editorconfig | tar -x -C "$src"
    fi
  fi
  if [ "$mode" = library ]; then
    mkdir -p "$src/bench" && cp -r "$root/bench/Meanwhile.Benchmarks" "$src/bench/"
    rm -rf "$src/bench/Meanwhile.Benchmarks/bin" "$src/bench/Meanwhile.Benchmarks/obj"
    echo "== build baseline $baseline ($rev): its library, this tree's benchmark program"
  else
    echo "== build baseline $baseline ($rev)"
  fi
  dotnet build "$src/bench/Meanwhile.Benchmarks" -c Release --artifacts-path "$artifacts-baseline" -nologo -v quiet
  baseline_dll="$artifacts-baseline/bin/Meanwhile.Benchmarks/release/Meanwhile.Benchmarks.dll"
  [ -f "$baseline_dll" ] || { echo "$(basename "$0"): the baseline build did not produce $baseline_dll" >&2; exit 1; }
}
