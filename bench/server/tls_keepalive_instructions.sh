#!/usr/bin/env bash
# User-space instructions per keep-alive HTTPS request (issue 17), counted by callgrind, split by object (our binary,
# libssl, libcrypto, libc): unlike CPU time the count hardly depends on the machine's load. Kernel time is not counted.
#
#   bash bench/server/tls_keepalive_instructions.sh DIR/MeanwhileHello [DIR2/MeanwhileHello ...]
#
# Each build runs under callgrind on core 0 (a copy without its .dbg: valgrind cannot read AOT's DWARF 5); httpload
# (bench/load) keeps 64 connections busy on core 1; after WARM seconds (every handshake done) the counters are zeroed,
# then dumped MEASURE seconds later. Requests = SSL_write calls in the dump (one per response); "handshakes" counts
# SSL_do_handshake calls in the window and must be 0, else the count mixes handshakes in (raise WARM). Managed code
# shows as "???" (AOT code that valgrind maps without a name); names: nm -C on the .dbg.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PORT="${PORT:-22400}"; WARM="${WARM:-17}"; MEASURE="${MEASURE:-8}"
work="$(mktemp -d)"; chmod 755 "$work"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
gcc -O2 -o "$work/httpload" "$here/../load/httpload.c" -lssl -lcrypto
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 7 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
i=0
for bin in "$@"; do
  i=$((i + 1)); cp "$bin" "$work/srv$i"
  taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$work/cg$i" "$work/srv$i" --port "$PORT" --loops 1 \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/vg$i.log" 2>&1 &
  vp=$!
  for _ in $(seq 120); do curl -sk "https://127.0.0.1:$PORT/" --max-time 5 > /dev/null 2>&1 && break; sleep 1; done
  taskset -c 1 "$work/httpload" -c 64 -w $((WARM - 3)) -d $((MEASURE + 6)) "https://127.0.0.1:$PORT/" > "$work/load$i.log" 2>&1 &
  lp=$!
  sleep "$WARM"; callgrind_control -z "$vp" > /dev/null
  sleep "$MEASURE"; callgrind_control -d "$vp" > /dev/null
  wait "$lp" || true; kill "$vp"; wait "$vp" 2>/dev/null || true
  python3 - "$work/cg$i.1" "$bin" <<'PY'
import collections, re, sys
names, objects, per_object = {}, {}, collections.Counter()
ob = callee = None; in_call = False; writes = handshakes = 0
def named(rest, table):
    m = re.match(r"\((\d+)\)(?: (.*))?", rest)
    if m.group(2) is not None: table[m.group(1)] = m.group(2)
    return table.get(m.group(1), "?")
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("ob="): ob = named(line[3:].strip(), objects); continue
    if line.startswith("cob="): named(line[4:].strip(), objects); continue
    if line.startswith("fn="): named(line[3:].strip(), names); continue
    if line.startswith("cfn="): callee = named(line[4:].strip(), names); continue
    if line.startswith("calls="):
        in_call = True; n = int(line.split()[0][6:])
        if callee == "SSL_write": writes += n
        if callee == "SSL_do_handshake": handshakes += n
        continue
    if line[:1].isdigit() or line[:1] in "+-*":
        if in_call: in_call = False; continue
        parts = line.split()
        if len(parts) >= 2: per_object[ob.split("/")[-1]] += int(parts[1])
total = sum(per_object.values())
split = ", ".join(f"{o} {c / max(writes, 1):,.0f}" for o, c in per_object.most_common() if c / max(writes, 1) >= 1)
print(f"{sys.argv[2]}: {writes:,} requests, {handshakes} handshakes, {total / max(writes, 1):,.0f} instructions/request ({split})")
PY
done
