# Sourced by the server benchmarks (bench/server/tls.sh, static.sh): the load client they run, LOAD=httpload (default)
# or LOAD=wrk. httpload (bench/load/httpload.c, see README.md) is the default because wrk was the ceiling of two
# measurements: at 100 KiB it spends ~57 us of its core per response reading and copying the body (the servers ~30),
# and over TLS ~20 us per request (httpload ~14); wrk stays available to compare with older figures.
LOAD="${LOAD:-httpload}"
load_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# load_init ARTIFACTS: checks the client; builds httpload into ARTIFACTS (gcc -O2, OpenSSL 3).
load_init() {
  case "$LOAD" in
    httpload)
      HTTPLOAD="$1/httpload"; mkdir -p "$1"
      gcc -O2 -Wall -Wextra -Werror -o "$HTTPLOAD" "$load_dir/httpload.c" -lssl -lcrypto ;;
    wrk) command -v wrk > /dev/null || { echo "LOAD=wrk: wrk is not installed" >&2; exit 1; } ;;
    *) echo "LOAD=$LOAD: use httpload or wrk" >&2; exit 1 ;;
  esac
}

# load_run CONNECTIONS SECONDS URL [-H 'Name: value']...: the client on core 1, one thread. Prints its wrk-like report
# ("N requests in", "Requests/sec:", a "99%" latency line) and "Client CPU seconds: S" (user + system, /usr/bin/time),
# measured the same way for both clients. httpload exits non-zero when a response was wrong (status, length).
load_run() {
  local conns=$1 seconds=$2 url=$3 times rc=0; shift 3
  times="$(mktemp)"
  if [ "$LOAD" = wrk ]; then
    /usr/bin/time -f '%U %S' -o "$times" taskset -c 1 wrk -t1 -c"$conns" -d"${seconds}s" --latency "$@" "$url" || rc=$?
  else
    /usr/bin/time -f '%U %S' -o "$times" taskset -c 1 "$HTTPLOAD" -c "$conns" -d "$seconds" "$@" "$url" || rc=$?
  fi
  echo "Client CPU seconds: $(awk 'END {print $1 + $2}' "$times")"
  rm -f "$times"
  [ "$rc" = 0 ] || echo "load_run: $LOAD failed (exit $rc) on $url" >&2
  return "$rc"
}
