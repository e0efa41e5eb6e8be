#!/usr/bin/env python3
"""Memory per idle TLS keep-alive connection: opens N TLS connections to a server (full handshakes), sends one GET on
each and reads the answer, then holds them all open and reports the growth of the server process's RSS per connection.

    idle_tls.py --port P --pid PID --label NAME [--count 10000] [--warmup 1000]

PID is the process that holds the connections (nginx: its worker). The certificate is not checked (the same one for
every server in bench/server/tls.sh). Prints one JSON line.
"""
import argparse, json, resource, socket, ssl, time

def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")

def open_one(context, port):
    raw = socket.create_connection(("127.0.0.1", port))
    s = context.wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"Hello, World!" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed before the answer")
        data += chunk
    return s

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--warmup", type=int, default=1000)
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    for _ in range(a.warmup):
        open_one(context, a.port).close()
    time.sleep(1)
    before = rss(a.pid)
    start = time.monotonic()
    held = [open_one(context, a.port) for _ in range(a.count)]
    opened = time.monotonic() - start
    time.sleep(2)  # let the server settle (pools, GC)
    after = rss(a.pid)
    print(json.dumps({"label": a.label, "count": a.count, "rss_before": before, "rss_after": after,
                      "per_connection_b": round((after - before) / a.count), "open_seconds": round(opened, 1)}))
    for s in held:
        s.close()

main()
