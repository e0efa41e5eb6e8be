"""Peer of `Meanwhile.Benchmarks queue|lock|waiters` (issue 16): asyncio's Queue, Lock and Event on one event loop.

  coordination.py queue [--mode single|batch] [--items N] [--capacity C] [--batch B] [--runs R]
      N items from one task to another through asyncio.Queue(maxsize=C): put/get one at a time, or B at a time
      (put_nowait until full then put; get then get_nowait up to B); items per second, median of R runs.
  coordination.py lock [--hold none|yield] [--ops N] [--runs R]
      two tasks taking turns at an asyncio.Lock: each releases and at once asks again while the other waits.
  coordination.py waiters [--count N]
      bytes per blocked waiter (tracemalloc): N pending Queue.get() futures, and N tasks blocked in Queue.get().
"""
import argparse
import asyncio
import json
import statistics
import sys
import time
import tracemalloc


def parse():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("queue", "lock", "waiters"))
    parser.add_argument("--mode", choices=("single", "batch"), default="single")
    parser.add_argument("--hold", choices=("none", "yield"), default="none")
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--capacity", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


async def queue_single(n, capacity):
    q = asyncio.Queue(maxsize=capacity)

    async def consume():
        for _ in range(n):
            await q.get()

    consumer = asyncio.create_task(consume())
    for i in range(n):
        await q.put(i)
    await consumer


async def queue_batch(n, capacity, batch):
    q = asyncio.Queue(maxsize=capacity)

    async def consume():
        got = 0
        while got < n:
            await q.get()
            got += 1
            for _ in range(batch - 1):
                if got == n or q.empty():
                    break
                q.get_nowait()
                got += 1

    consumer = asyncio.create_task(consume())
    for i in range(n):
        try:
            q.put_nowait(i)
        except asyncio.QueueFull:
            await q.put(i)
    await consumer


async def take_turns(lock, count, hold):
    for _ in range(count):
        if hold:
            await asyncio.sleep(0)
        lock.release()
        await lock.acquire()
    lock.release()


async def contend(n, hold):
    lock = asyncio.Lock()
    await lock.acquire()

    async def other():
        await lock.acquire()
        await take_turns(lock, n // 2 - 1, hold)

    task = asyncio.create_task(other())
    await asyncio.sleep(0)  # the other task is waiting now
    await take_turns(lock, n - n // 2, hold)
    await task


async def repeat(body, n, runs):
    await body(min(n, 20_000))  # warm
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        await body(n)
        rates.append(n / (time.perf_counter() - start))
    return rates


async def waiters(count):
    q = asyncio.Queue()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    gets = [asyncio.ensure_future(q.get()) for _ in range(count)]  # a task per get: asyncio has no bare pending get
    await asyncio.sleep(0)
    per_task = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()
    for i in range(count):
        q.put_nowait(i)
    await asyncio.gather(*gets)

    loop = asyncio.get_running_loop()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    futures = [loop.create_future() for _ in range(count)]  # what Queue.get() parks in _getters per waiter
    per_wait = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()
    del futures
    return per_wait, per_task


def main():
    opt = parse()
    if opt.command == "waiters":
        per_wait, per_task = asyncio.run(waiters(opt.count))
        if opt.json:
            print(json.dumps({"bench": "waiters", "impl": "asyncio", "n": opt.count, "bytes_per_wait": per_wait, "bytes_per_task": per_task}))
        else:
            print(f"waiters (asyncio): {opt.count:,} blocked: {per_wait:.0f} B per wait, {per_task:.0f} B per blocked task")
        return
    if opt.command == "queue":
        n, mode = opt.items, opt.mode
        body = (lambda k: queue_single(k, opt.capacity)) if mode == "single" else (lambda k: queue_batch(k, opt.capacity, opt.batch))
    else:
        n, mode = opt.ops, opt.hold
        body = lambda k: contend(k, opt.hold == "yield")
    rates = asyncio.run(repeat(body, n, opt.runs))
    rate = statistics.median(rates)
    if opt.json:
        print(json.dumps({"bench": opt.command, "impl": "asyncio", "mode": mode, "n": n, "rate": rate, "rates": rates}))
    else:
        print(f"{opt.command} (asyncio, {mode}): median {rate / 1e6:.3f} M/s [{', '.join(f'{r / 1e6:.3f}' for r in rates)}]")


if __name__ == "__main__":
    sys.exit(main())
