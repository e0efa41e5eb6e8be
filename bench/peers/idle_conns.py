"""Memory per idle open TCP connection, Python asyncio peer of `Meanwhile.Benchmarks idle-server`.

Accepts --count connections through asyncio.start_server; each handler is a task awaiting reader.read(1) (an idle
connection with its StreamReader, StreamWriter, transport and task). Reports VmRSS growth after gc.collect(), per
connection. The port is written to --port-file once the server listens (after a warm-up of 64 connections).
"""
import asyncio
import gc
import json
import os
import argparse


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


async def main(args):
    accepted = 0
    done = asyncio.Event()
    waiting = []

    async def handle(reader, writer):
        nonlocal accepted
        accepted += 1
        if accepted == target:
            done.set()
        try:
            await reader.read(1)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=511)
    port = server.sockets[0].getsockname()[1]

    # Warm-up: the accept path once through, from this process.
    target = 64
    for _ in range(64):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0)
        w.close()
        await w.wait_closed()
    await done.wait()
    await asyncio.sleep(0.1)
    accepted, target = 0, args.count
    done.clear()
    gc.collect()
    before = rss_bytes()

    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.replace(tmp, args.port_file)

    await done.wait()
    await asyncio.sleep(0.5)
    gc.collect()
    after = rss_bytes()
    per = (after - before) / args.count
    if args.json:
        print(json.dumps({"bench": "idle-connections", "impl": "asyncio", "count": args.count,
                          "rss_before_mb": before / 2**20, "rss_after_mb": after / 2**20,
                          "rss_per_conn": per, "heap_per_conn": None}))
    else:
        print(f"idle connections asyncio: {args.count} open: RSS {before/2**20:.1f} -> {after/2**20:.1f} MB ({per:.0f} B per connection)")
    server.close()
    os._exit(0)  # the connections go with the process


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args))
