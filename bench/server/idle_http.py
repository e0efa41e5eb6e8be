#!/usr/bin/env python3
"""Memory per idle keep-alive HTTP connection: opens N connections to a server, sends one GET on each and reads the
answer, then holds them all open and reports the growth of the server process's RSS per connection.

    idle_http.py --port P --pid PID [--count 10000] [--warmup 2000] [--heap-path /_heap] [--hold-seconds S]

PID is the process that holds the connections (nginx: its worker). RSS comes from /proc/PID/status (VmRSS).
Before the baseline, --warmup connections (256 at a time) each get one request and are closed, so that one-time
costs (a JIT's tiered recompilation, pools filling up) fall outside the per-connection figure.
With --heap-path (the Meanwhile bench server's GET /_heap: live managed heap and GC committed bytes after full
collections), the heap is read before the warm-up and after the RSS sample, and RSS is sampled once more after that
collection: heap_per_connection_b is the live objects, rss_after_gc_per_connection_b what RSS is once garbage is gone.
--hold-seconds keeps the connections open that long after measuring (to take a heap dump by hand).
"""
import argparse
import json, re, resource, socket, sys, time

def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")

def get(port, path):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode()

def smaps(pid):
    """RSS per mapping (kB), to see where growth lands: GC regions, malloc arenas (64 MiB-aligned), JIT code."""
    sizes, name = {}, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                name = parts[0] + " " + (parts[5] if len(parts) > 5 else "[anon]")
            elif line.startswith("Rss:"):
                sizes[name] = int(line.split()[1])
    return sizes

def exchange(s, request):
    s.sendall(request)
    data = b""
    while b"Hello, World!" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("server closed a connection")
        data += chunk


def warm_up(port, count, request, idle_seconds):
    """Runs every path the measurement will: connections answer a request, stay idle as long as the measured ones
    will, answer another, and close. Otherwise the runtime compiles those paths during the measurement, and the JIT's
    transient memory shows up as RSS per connection."""
    held = []
    while count > 0:
        batch = [socket.create_connection(("127.0.0.1", port)) for _ in range(min(256, count))]
        for s in batch:
            exchange(s, request)
        held += batch
        count -= len(batch)
        # One connection at a time too, as measured below: the server then waits in every accept and every first read,
        # paths that batches of connections ready at once do not take.
        for _ in range(min(256, count)):
            s = socket.create_connection(("127.0.0.1", port))
            exchange(s, request)
            held.append(s)
            count -= 1
    time.sleep(idle_seconds)
    for s in held:
        exchange(s, request)
        s.close()
    time.sleep(1.0)  # tiered compilation finishes in the background


def heap(port, path):
    live, committed, allocated, gen0 = (int(x) for x in get(port, path).split())
    return live, committed, allocated, gen0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--label", default="server")
    ap.add_argument("--heap-path")
    ap.add_argument("--hold-seconds", type=float, default=0)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--settle-seconds", type=float, default=1.0)
    ap.add_argument("--warmup-rounds", type=int, default=3)
    ap.add_argument("--smaps", action="store_true", help="print the mappings whose RSS grew most (stderr)")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
    # The heap is read (after full collections) before the warm-up, so that the RSS baseline is that of a server that
    # has been working, not one whose GC has just collected and given memory back: the live heap is unaffected.
    if a.heap_path:
        heap_before = heap(a.port, a.heap_path)
    # Several rounds: the runtime recompiles hot methods (tier 0, then instrumented, then optimized) only after it
    # has counted calls past a delay, so one round leaves most of that work, its code and the JIT's scratch memory
    # (several MB of malloc arenas), to land inside the measurement as if the connections had used it.
    for _ in range(a.warmup_rounds):
        warm_up(a.port, a.warmup, request, a.settle_seconds)
    before = rss(a.pid)
    maps_before = smaps(a.pid) if a.smaps else None
    held = []
    half = rss(a.pid)
    for i in range(a.count):
        s = socket.create_connection(("127.0.0.1", a.port))
        exchange(s, request)
        held.append(s)
        if i + 1 == a.count // 2:
            time.sleep(a.settle_seconds)
            half = rss(a.pid)
    time.sleep(a.settle_seconds)  # let the server settle (idle bookkeeping, buffers handed back)
    after = rss(a.pid)
    if a.smaps:
        maps_after = smaps(a.pid)
        growth = sorted(((maps_after.get(k, 0) - maps_before.get(k, 0), k) for k in set(maps_before) | set(maps_after)), reverse=True)
        for kb, name in growth[:10]:
            print(f"smaps growth {kb:7d} kB {name}", file=sys.stderr)
    result = {"server": a.label, "rss_before_mb": before / 1e6, "rss_after_mb": after / 1e6,
              "rss_per_connection_b": (after - before) / a.count,
              # the second half's connections alone: what one more connection costs once one-off costs (the
              # runtime's bookkeeping for a larger heap, a collection's scratch memory) are paid
              "rss_marginal_per_connection_b": (after - half) / (a.count - a.count // 2)}
    if a.heap_path:
        heap_after = heap(a.port, a.heap_path)
        time.sleep(0.2)
        after_gc = rss(a.pid)
        result.update({"heap_per_connection_b": (heap_after[0] - heap_before[0]) / a.count,
                       "heap_before_mb": heap_before[0] / 1e6, "heap_after_mb": heap_after[0] / 1e6,
                       "committed_before_mb": heap_before[1] / 1e6, "committed_after_mb": heap_after[1] / 1e6,
                       # everything allocated, garbage included, from before the warm-up to the end
                       "allocated_per_connection_b": (heap_after[2] - heap_before[2]) / a.count,
                       "gen0_gcs": heap_after[3] - heap_before[3] - 2,
                       "rss_after_gc_per_connection_b": (after_gc - before) / a.count})
    if a.hold_seconds:
        print(f"holding {a.count} connections for {a.hold_seconds} s", flush=True)
        time.sleep(a.hold_seconds)
    alive = sum(1 for s in held if s.fileno() >= 0)
    for s in held:
        s.close()
    result["connections"] = alive
    print(json.dumps(result))

if __name__ == "__main__":
    main()
