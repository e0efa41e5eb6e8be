"""Peer of `Meanwhile.Benchmarks spawn`: N asyncio tasks (create_task), each yielding once (asyncio.sleep(0))
and finishing, gathered a batch at a time; median rate of R runs after a warm-up."""
import asyncio
import json
import time

from common import median, parse_args, peak_rss_mb

opt = parse_args(__doc__, tasks=200_000, runs=5, batch=10_000, warmup=50_000)


async def yield_once():
    await asyncio.sleep(0)


async def spawn_many(total):
    left = total
    while left > 0:
        n = min(left, opt.batch)
        await asyncio.gather(*[asyncio.create_task(yield_once()) for _ in range(n)])
        left -= n


async def main():
    await spawn_many(opt.warmup)
    rates = []
    for _ in range(opt.runs):
        start = time.perf_counter()
        await spawn_many(opt.tasks)
        rates.append(opt.tasks / (time.perf_counter() - start))
    return rates


rates = asyncio.run(main())
rate = median(rates)
peak = peak_rss_mb()
if opt.json:
    print(json.dumps({"bench": "spawn", "impl": "asyncio", "n": opt.tasks, "batch": opt.batch, "runs": opt.runs,
                      "rate": rate, "rates": rates, "peak_rss_mb": peak}))
else:
    import sys
    print(f"spawn (asyncio, Python {sys.version.split()[0]}): {opt.tasks} tasks x {opt.runs} runs: median {rate / 1e6:.3f} M tasks/s "
          f"[{', '.join(f'{r / 1e6:.3f}' for r in rates)}], peak RSS {peak:.1f} MB")
