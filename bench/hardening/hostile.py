#!/usr/bin/env python3
"""Hostile HTTP/1.1 clients for the hardening benchmarks (bench/hardening/*.sh), one asyncio loop each.

  hostile.py slowloris --port P [--conns 5000] [--duration 35] [--interval 1.0] [--ready-file F]
  hostile.py headers   --port P [--conns 200]  [--duration 20]
  hostile.py chunked   --port P [--conns 64]   [--duration 20] [--path /]
  hostile.py pipeline  --port P [--conns 64]   [--duration 20]

slowloris  each connection sends a request line and then one byte of header lines every INTERVAL seconds (+/- 20 %
           jitter), never ending the head; a connection the server closes is opened again, so CONNS stay open.
headers    each connection sends a request line, then header lines (100-byte values) as fast as the socket takes them.
chunked    each connection sends a POST head with Transfer-Encoding: chunked, then 16 KiB chunks as fast as it can.
pipeline   each connection writes GET requests back to back (64 per write) and never reads a response (beyond the
           1 KiB asyncio buffers before it stops reading the socket).

headers, chunked and pipeline open a connection again when the server closes one. Each prints one JSON object on
stdout at the end: connections opened, how many the server closed (EOF or reset, before the attacker gave up), the
status codes the server answered with (first status line of each connection), bytes sent and, for slowloris, how long
server-closed connections lived and when the closes happened.
"""
import argparse
import asyncio
import json
import os
import random
import socket
import struct
import sys
import time


def tcp_info(sock):
    """(ms since the kernel last received data, ms since it last received an ACK, data bytes received) from
    TCP_INFO: the attacker's own loop may be late (it shares a core with the normal clients), the kernel is not."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 136)
        last_data_recv, last_ack_recv = struct.unpack_from("II", info, 52)
        (bytes_received,) = struct.unpack_from("Q", info, 128)
        return last_data_recv, last_ack_recv, bytes_received
    except (OSError, struct.error):
        return 0, 0, 0


class Stats:
    def __init__(self):
        self.t0 = time.monotonic()
        self.opened = 0
        self.open_now = 0
        self.max_open = 0
        self.connect_errors = 0
        self.server_closed = 0
        self.statuses = {}
        self.bytes_sent = 0
        self.lifetimes = []      # seconds from connect to the server's close
        self.close_times = []    # seconds since the start of the attack
        self.log = None          # --log: one line per server-closed connection

    def status(self, first_bytes):
        if first_bytes is None:
            self.statuses["reset"] = self.statuses.get("reset", 0) + 1
            return
        line = first_bytes.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        code = parts[1].decode("latin-1") if len(parts) > 1 and line.startswith(b"HTTP/") else "none"
        self.statuses[code] = self.statuses.get(code, 0) + 1


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


async def open_conn(port, stats, gate, limit=65536):
    async with gate:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=limit)
        except OSError:
            stats.connect_errors += 1
            await asyncio.sleep(0.1)
            return None
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stats.opened += 1
    stats.open_now += 1
    stats.max_open = max(stats.max_open, stats.open_now)
    return reader, writer


async def watch(reader, sock):
    """Reads until the server closes; returns the first bytes it sent (None if a reset came before any were read:
    closing a socket with unread input sends a reset, which destroys what the peer has not read yet; b"" if the
    server closed without a word) and when the close came: when the kernel received the last bytes (the
    server answers 408, 431 or 413 just before it closes) or, for a close without an answer, now."""
    first = b""
    reset = False
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if len(first) < 64:
                first += data[:64]
    except (ConnectionError, OSError):
        reset = True
    now = time.monotonic()
    last_data_ms, _, received = tcp_info(sock)
    if not first and (received or reset):
        first = None
    return first, (now - last_data_ms / 1000 if received else now)


async def wait_closed(writer):
    """For clients that never read: the connection's end shows as a failed write (the server's reset)."""
    try:
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass
    return b"", time.monotonic()


async def attacker(args, stats, gate, deadline, send_loop):
    """One attacking connection after another until the deadline: send_loop(writer) sends; a watcher reads, or for
    the pipeline flood waits for the connection to fail without reading (asyncio stops taking bytes from the socket
    once its 1 KiB stream buffer is full, so the responses pile up in the kernel and then in the server)."""
    never_read = args.mode == "pipeline"
    while time.monotonic() < deadline:
        conn = await open_conn(args.port, stats, gate, limit=1024 if never_read else 65536)
        if conn is None:
            continue
        reader, writer = conn
        # A second descriptor for the socket, so TCP_INFO can still be read after a reset made asyncio close its own
        # (the server's close resets a connection that still sends; the attacker may see it seconds later).
        sock = socket.socket(fileno=os.dup(writer.get_extra_info("socket").fileno()))
        start = time.monotonic() - tcp_info(sock)[1] / 1000   # when the handshake ended, in the kernel
        local_port = sock.getsockname()[1]
        watcher = asyncio.ensure_future(wait_closed(writer) if never_read else watch(reader, sock))
        sender = asyncio.ensure_future(send_loop(writer))
        remaining = deadline - time.monotonic()
        done, _ = await asyncio.wait({watcher}, timeout=max(0, remaining))
        sender.cancel()
        try:
            await sender
        except (asyncio.CancelledError, ConnectionError, OSError):
            pass
        stats.open_now -= 1
        if done:
            first, closed_at = watcher.result()
            stats.server_closed += 1
            stats.lifetimes.append(closed_at - start)
            stats.close_times.append(closed_at - stats.t0)
            stats.status(first)
            if stats.log:
                stats.log.write("%.3f %.3f %s %d\n" % (start - stats.t0, closed_at - stats.t0,
                                                        "reset" if first is None else (first[9:12].decode("latin-1") or "none"),
                                                        local_port))
            if never_read:
                stats.statuses = {"closed (not read)": stats.server_closed}
        else:
            watcher.cancel()
        writer.transport.abort()
        sock.close()


def slowloris_sender(args, stats):
    head = b"GET / HTTP/1.1\r\nHost: localhost\r\n"
    async def send(writer):
        writer.write(head)
        stats.bytes_sent += len(head)
        i = 0
        trickle = b""
        while not writer.transport.is_closing():
            await asyncio.sleep(args.interval * random.uniform(0.8, 1.2))
            if not trickle:
                trickle = b"X-Slow-%d: a\r\n" % i
                i += 1
            writer.write(trickle[:1])
            trickle = trickle[1:]
            stats.bytes_sent += 1
    return send


def headers_sender(args, stats):
    head = b"GET / HTTP/1.1\r\nHost: localhost\r\n"
    block = b"".join(b"X-Pad-%04d: %s\r\n" % (i, b"a" * 100) for i in range(150))
    async def send(writer):
        writer.write(head)
        while not writer.transport.is_closing():
            writer.write(block)
            stats.bytes_sent += len(block)
            await writer.drain()
    return send


def chunked_sender(args, stats):
    head = b"POST %s HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" % args.path.encode()
    chunk = b"4000\r\n" + b"b" * 0x4000 + b"\r\n"
    async def send(writer):
        writer.write(head)
        while not writer.transport.is_closing():
            writer.write(chunk)
            stats.bytes_sent += len(chunk)
            await writer.drain()
    return send


def pipeline_sender(args, stats):
    batch = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" * 64
    async def send(writer):
        while not writer.transport.is_closing():
            writer.write(batch)
            stats.bytes_sent += len(batch)
            stats.requests_sent = getattr(stats, "requests_sent", 0) + 64
            await writer.drain()
    return send


async def main(args):
    stats = Stats()
    if args.log:
        stats.log = open(args.log, "w")
    deadline = stats.t0 + args.duration
    gate = asyncio.Semaphore(args.connect_burst)
    senders = {"slowloris": slowloris_sender, "headers": headers_sender, "chunked": chunked_sender, "pipeline": pipeline_sender}
    send = senders[args.mode](args, stats)

    async def ready_when_all_open():
        while stats.open_now < args.conns:
            await asyncio.sleep(0.05)
        stats.all_open_at = time.monotonic() - stats.t0
        if args.ready_file:
            with open(args.ready_file, "w") as f:
                f.write("%d\n" % stats.open_now)

    readiness = asyncio.ensure_future(ready_when_all_open())
    await asyncio.gather(*(attacker(args, stats, gate, deadline, send) for _ in range(args.conns)))
    readiness.cancel()

    result = {
        "mode": args.mode,
        "conns": args.conns,
        "duration_s": args.duration,
        "all_open_after_s": round(getattr(stats, "all_open_at", -1), 2),
        "opened": stats.opened,
        "max_open": stats.max_open,
        "connect_errors": stats.connect_errors,
        "server_closed": stats.server_closed,
        "statuses": stats.statuses,
        "bytes_sent": stats.bytes_sent,
    }
    if hasattr(stats, "requests_sent"):
        result["requests_sent"] = stats.requests_sent
    if stats.lifetimes:
        result["lifetime_s"] = {k: round(percentile(stats.lifetimes, p), 2) for k, p in
                                (("min", 0), ("p50", 50), ("p99", 99), ("max", 100))}
        per_second = {}
        for t in stats.close_times:
            per_second[int(t)] = per_second.get(int(t), 0) + 1
        result["closes_per_second"] = {str(k): v for k, v in sorted(per_second.items())}
    print(json.dumps(result))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["slowloris", "headers", "chunked", "pipeline"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--conns", type=int, default=None)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--interval", type=float, default=1.0, help="slowloris: seconds between bytes")
    p.add_argument("--path", default="/", help="chunked: the target of the POST")
    p.add_argument("--connect-burst", type=int, default=256, help="connects in flight at once (the listen backlog is 511)")
    p.add_argument("--ready-file", help="written once all CONNS connections are open (if ever)")
    p.add_argument("--log", help="one line per connection the server closed: opened-at closed-at (seconds since the start), status, local port")
    a = p.parse_args()
    if a.conns is None:
        a.conns = {"slowloris": 5000, "headers": 200, "chunked": 64, "pipeline": 64}[a.mode]
    try:
        asyncio.run(main(a))
    except KeyboardInterrupt:
        sys.exit(130)
