"""Peer of `Meanwhile.Benchmarks sleeps`: N concurrent asyncio.sleep(1) tasks gathered at once; wall time from
the first task created to the last wake-up, and peak RSS. One measurement per process."""
import asyncio
import json
import sys
import time

from common import parse_args, peak_rss_mb

opt = parse_args(__doc__, count=100_000)


async def main():
    # Warm-up like the .NET side: rounds of 10,000 one-millisecond sleeps for ~300 ms.
    warm_start = time.perf_counter()
    while time.perf_counter() - warm_start < 0.3:
        await asyncio.gather(*[asyncio.sleep(0.001) for _ in range(10_000)])
    start = time.perf_counter()
    tasks = [asyncio.create_task(asyncio.sleep(1)) for _ in range(opt.count)]
    armed = time.perf_counter() - start
    await asyncio.gather(*tasks)
    return time.perf_counter() - start, armed


wall, armed = asyncio.run(main())
peak = peak_rss_mb()
if opt.json:
    print(json.dumps({"bench": "sleeps", "impl": "asyncio", "n": opt.count, "wall_s": wall, "armed_s": armed, "peak_rss_mb": peak}))
else:
    print(f"sleeps (asyncio, Python {sys.version.split()[0]}): {opt.count} x 1 s: wall {wall:.3f} s (tasks created at {armed:.3f} s), "
          f"peak RSS {peak:.1f} MB")
