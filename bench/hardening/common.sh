# Shared by bench/hardening/*.sh (sourced, not run): build, start a pinned server, read its memory and descriptors.
# Every script pins the server to SERVER_CPU (default 0) and every client and attacker to CLIENT_CPU (default 1).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ARTIFACTS="${ARTIFACTS:-/tmp/hardening-artifacts}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
# RT=1 runs the server and the measuring clients (not the attackers) as real-time tasks (chrt -f), so other programs on
# a shared machine cannot delay them; for figures on a busy machine. Default: ordinary scheduling.
RT="${RT:-0}"
rt=()
if [ "$RT" = 1 ]; then rt=(chrt -f 10); fi
# -h/--help: the script's header comment.
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"
  exit 0
fi

# Raw material of the last run (wrk outputs, the attackers' JSON, samples, server logs) is kept in OUT/<script>.
OUT="${OUT:-/tmp/hardening-results}"
name="$(basename "$0" .sh)"
work="$(mktemp -d)"
pids=()

cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "${OUT:?}/$name" && mkdir -p "$OUT/$name" && cp -r "$work"/. "$OUT/$name"/ 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install -y wrk curl util-linux python3)" >&2; exit 1; }
  done
}

# Raises the descriptor limit to the hard limit (5,000 slow connections need about 5,000 on each side).
raise_nofile() {
  local want="$1"
  ulimit -n "$(ulimit -Hn)"
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
    echo "ulimit -n is $(ulimit -n) (hard limit); $want needed" >&2
    exit 1
  fi
}

# Release builds into ARTIFACTS: the benchmark server (bench/server/MeanwhileHello) and, with "cli", the meanwhile tool.
build() {
  local p
  for p in "$@"; do
    case "$p" in
      hello) p="$root/bench/server/MeanwhileHello" ;;
      cli) p="$root/src/Meanwhile.Cli" ;;
    esac
    if ! dotnet build -c Release --artifacts-path "$ARTIFACTS" "$p" -nologo -v q > "$work/build.log" 2>&1; then
      grep -E "error" "$work/build.log" | sort -u | head -n 20 >&2
      echo "build of $p failed" >&2
      exit 1
    fi
  done
  hello="$ARTIFACTS/bin/MeanwhileHello/release/MeanwhileHello"
  cli="$ARTIFACTS/bin/Meanwhile.Cli/release/Meanwhile.Cli"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  local _
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "server on port $1 did not start" >&2
  exit 1
}

# start_server NAME CMD...: runs CMD pinned to SERVER_CPU with @PORT@ replaced by a free port; sets $port and $spid.
start_server() {
  local name="$1"; shift
  port=$(free_port)
  local cmd=("$@")
  cmd=("${cmd[@]//@PORT@/$port}")
  "${rt[@]}" taskset -c "$SERVER_CPU" "${cmd[@]}" > "$work/$name.log" 2>&1 &
  spid=$!
  pids+=("$spid")
  wait_port "$port"
}

stop_server() {
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
}

# status_kb PID FIELD: VmRSS, VmHWM... in kB from /proc/PID/status.
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
# CPU time and time spent waiting for a CPU (run queue), in ns, summed over the threads of PID: "cpu_ns wait_ns".
schedstat() { cat "/proc/$1"/task/*/schedstat 2>/dev/null | awk '{c += $1; d += $2} END {printf "%.0f %.0f\n", c, d}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# One normal request; prints "STATUS SECONDS" ("000 ..." when it failed or took over 5 s).
probe() { curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$1${2:-/}" || true; }

# wrk's latency percentiles and maximum in ms: prints "p50 p75 p90 p99 max" from wrk --latency output on stdin.
wrk_percentiles() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    $1 == "Latency" && NF >= 4 {max = ms($4)}
    $1 == "50%" {p50 = ms($2)} $1 == "75%" {p75 = ms($2)} $1 == "90%" {p90 = ms($2)} $1 == "99%" {p99 = ms($2)}
    END {printf "%.2f %.2f %.2f %.2f %.2f\n", p50, p75, p90, p99, max}'
}

# wrk's totals from its output on stdin: "requests non2xx connect read write timeout"
wrk_totals() {
  awk '
    /requests in/ {n = $1}
    /Non-2xx or 3xx responses/ {bad = $NF}
    /Socket errors/ {gsub(",", ""); c = $4; r = $6; w = $8; t = $10}
    END {printf "%d %d %d %d %d %d\n", n, bad, c, r, w, t}'
}
