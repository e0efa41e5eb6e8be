#!/usr/bin/env bash
# The tool's cold start: `meanwhile --help` and a one-URL `meanwhile fetch` from a local nginx, each a new process,
# as users run them: the native executable (Native AOT, what `dotnet publish` and the tool package give) and the
# framework-dependent build (`dotnet Meanwhile.Cli.dll`, what `dotnet run` starts), beside curl doing the same.
# Wall time: hyperfine, 10 runs after 2 warm-ups (the files are in the page cache; the process starts cold), median.
# Peak RSS and CPU time (user + system, which a busy core does not inflate as it does wall time): /usr/bin/time over
# 10 more runs, medians. nginx on core 0, the measured process on core 1.
# Needs: nginx, curl, hyperfine, taskset, python3. Usage: bench/cold-start.sh [runs]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
runs="${1:-10}"
work="$(mktemp -d)"
chmod 755 "$work"
trap 'kill $(cat "$work"/nginx.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

echo "building: the native tool (dotnet publish, Native AOT) and the framework-dependent one (dotnet build -c Release)" >&2
dotnet publish "$root/src/Meanwhile.Cli" -c Release -r linux-x64 -o "$work/native" -v q -nologo >/dev/null
dotnet build "$root/src/Meanwhile.Cli" -c Release -v q -nologo >/dev/null
native="$work/native/meanwhile"
managed="dotnet $root/src/Meanwhile.Cli/bin/Release/net10.0/Meanwhile.Cli.dll"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/www"
printf 'Hello, World!' > "$work/www/hello.txt"
cat > "$work/nginx.conf" <<CONF
daemon on;
worker_processes 1;
error_log $work/error.log warn;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work;
  server { listen 127.0.0.1:$port; root $work/www; }
}
CONF
taskset -c 0 nginx -p "$work" -c "$work/nginx.conf"
url="http://127.0.0.1:$port/hello.txt"
curl -sf "$url" >/dev/null

# name | command
cases=(
  "meanwhile --help (native)|$native --help"
  "meanwhile fetch URL (native)|$native fetch $url"
  "meanwhile --help (dotnet)|$managed --help"
  "meanwhile fetch URL (dotnet)|$managed fetch $url"
  "curl --help|curl --help"
  "curl URL|curl -s $url"
)

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

printf '%-32s %12s %14s %10s %10s\n' "command" "wall median" "wall range" "cpu" "peak RSS"
for entry in "${cases[@]}"; do
  name="${entry%%|*}"
  command="${entry#*|}"
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/h.json" "taskset -c 1 $command" >/dev/null 2>&1
  read -r wall low high < <(python3 -c '
import json, sys, statistics
times = json.load(open(sys.argv[1]))["results"][0]["times"]
print(f"{statistics.median(times)*1000:.1f} {min(times)*1000:.1f} {max(times)*1000:.1f}")' "$work/h.json")
  : >"$work/usage"
  for _ in $(seq "$runs"); do
    # shellcheck disable=SC2086 # the command is words
    /usr/bin/time -f '%M %U %S' -a -o "$work/usage" taskset -c 1 $command >/dev/null 2>&1 || true
  done
  rss=$(awk '{print $1}' "$work/usage" | median)
  cpu=$(awk '{print ($2 + $3) * 1000}' "$work/usage" | median)
  printf '%-32s %9s ms %11s ms %7.0f ms %7.1f MB\n' "$name" "$wall" "$low-$high" "$cpu" "$(echo "$rss / 1024" | bc -l)"
done
