#!/usr/bin/env python3
"""Memory per idle keep-alive HTTP connection: opens N connections to a server, sends one GET on each and reads the
answer, then holds them all open and reports the growth of the server process's RSS per connection.

    idle_http.py --port P --pid PID [--count 10000]

PID is the process that holds the connections (nginx: its worker). RSS comes from /proc/PID/status (VmRSS).
"""
import argparse, json, resource, socket, time

def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--label", default="server")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
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
    alive = sum(1 for s in held if s.fileno() >= 0)
    for s in held:
        s.close()
    print(json.dumps({"server": a.label, "connections": alive, "rss_before_mb": before / 1e6, "rss_after_mb": after / 1e6,
                      "rss_per_connection_b": (after - before) / a.count}))

if __name__ == "__main__":
    main()
