#!/usr/bin/env bash
# Runs the HTTP/1.1 conformance corpus (tests/conformance) against the echo server, on 1 loop and on 2.
# Exits non-zero if a case fails, the server does not come up or the corpus is missing. Usage: bench/conformance.sh [loops...]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=tests/conformance
if [ ! -f "$corpus/run_http1.py" ] || [ ! -f "$corpus/http1-llhttp.jsonl" ]; then
  echo "the conformance corpus is missing from $corpus (it is part of the repository)" >&2
  exit 1
fi
dotnet build examples/EchoServer -c Release -v quiet -nologo >/dev/null
server=examples/EchoServer/bin/Release/net10.0/EchoServer
loops_list=("${@:-1 2}")
status=0
for loops in ${loops_list[@]}; do
  out=$(mktemp)
  "$server" --port 0 --loops "$loops" >"$out" 2>&1 &
  pid=$!
  # Wait for the line that says it listens (printed once every loop has bound), with a deadline.
  port=""
  for _ in $(seq 1 200); do
    port=$(grep -oE 'listening on [^ ]+:[0-9]+' "$out" | grep -oE '[0-9]+$' || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "echo server (--loops $loops) did not start:" >&2
    cat "$out" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
  fi
  echo "== conformance corpus, echo server on port $port, $loops loop(s) =="
  if ! python3 "$corpus/run_http1.py" --port "$port" "$corpus/http1-llhttp.jsonl"; then status=1; fi
  kill -TERM "$pid"
  wait "$pid" || true
  rm -f "$out"
done
exit $status
