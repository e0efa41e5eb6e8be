#!/usr/bin/env bash
# testssl.sh (Debian's `testssl`) against `meanwhile serve` over TLS with an ECDSA P-256 certificate (issue 17): protocols,
# cipher categories and vulnerabilities. Slow (minutes on a quiet machine): a script rather than a test; its summary is
# recorded in docs/security.md.
#   bench/server/testssl.sh        # PORT=22020
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
PORT="${PORT:-22020}"
work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
dotnet build "$root/src/Meanwhile.Cli" -c Release -o "$work/tool" -nologo -v q | grep -E " error |rror\(s\)" || true
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 7 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
"$work/tool/Meanwhile.Cli" serve --port "$PORT" --loops 1 -q --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 200); do curl -sk -o /dev/null "https://127.0.0.1:$PORT/" && break; sleep 0.1; done
testssl --quiet --color 0 --protocols --std --vulnerable --ip 127.0.0.1 "https://localhost:$PORT/"
