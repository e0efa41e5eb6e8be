"""Peer of `Meanwhile.Benchmarks idle`: process CPU time while the asyncio loop waits on one sleep."""
import asyncio
import json
import time

from common import parse_args

opt = parse_args(__doc__, seconds=1.0)


async def main():
    await asyncio.sleep(0.5)
    cpu0, start = time.process_time(), time.perf_counter()
    await asyncio.sleep(opt.seconds)
    return (time.process_time() - cpu0) * 1000, time.perf_counter() - start


cpu_ms, wall = asyncio.run(main())
if opt.json:
    print(json.dumps({"bench": "idle", "impl": "asyncio", "seconds": wall, "cpu_ms": cpu_ms, "cpu_ms_per_s": cpu_ms / wall}))
else:
    print(f"idle (asyncio): waited {wall:.3f} s: process CPU {cpu_ms:.2f} ms ({cpu_ms / wall:.2f} ms/s)")
