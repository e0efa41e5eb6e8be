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
import argparse, json, resource, socket, time

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

def warm_up(port, count, request):
    while count > 0:
        batch = [socket.create_connection(("127.0.0.1", port)) for _ in range(min(256, count))]
        for s in batch:
            s.sendall(request)
        for s in batch:
            data = b""
            while b"Hello, World!" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("server closed a warm-up connection")
                data += chunk
            s.close()
        count -= len(batch)
    time.sleep(1.0)  # tiered compilation finishes in the background

def heap(port, path):
    live, committed = (int(x) for x in get(port, path).split())
    return live, committed

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--label", default="server")
    ap.add_argument("--heap-path")
    ap.add_argument("--hold-seconds", type=float, default=0)
    ap.add_argument("--warmup", type=int, default=2000)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
    # The heap is read (after full collections) before the warm-up, so that the RSS baseline is that of a server that
    # has been working, not one whose GC has just collected and given memory back: the live heap is unaffected.
    if a.heap_path:
        heap_before = heap(a.port, a.heap_path)
    warm_up(a.port, a.warmup, request)
    before = rss(a.pid)
    held = []
    for _ in range(a.count):
        s = socket.create_connection(("127.0.0.1", a.port))
        s.sendall(request)
        data = b""
        while b"Hello, World!" not in data:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("server closed a connection")
            data += chunk
        held.append(s)
    time.sleep(1.0)  # let the server settle (idle bookkeeping, buffers handed back)
    after = rss(a.pid)
    result = {"server": a.label, "rss_before_mb": before / 1e6, "rss_after_mb": after / 1e6,
              "rss_per_connection_b": (after - before) / a.count}
    if a.heap_path:
        heap_after = heap(a.port, a.heap_path)
        time.sleep(0.2)
        after_gc = rss(a.pid)
        result.update({"heap_per_connection_b": (heap_after[0] - heap_before[0]) / a.count,
                       "heap_before_mb": heap_before[0] / 1e6, "heap_after_mb": heap_after[0] / 1e6,
                       "committed_before_mb": heap_before[1] / 1e6, "committed_after_mb": heap_after[1] / 1e6,
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
