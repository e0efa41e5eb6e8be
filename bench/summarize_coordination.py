#!/usr/bin/env python3
"""Prints the table of bench/coordination.sh from its raw JSON lines: medians over repetitions, ratios, the goals.

usage: summarize_coordination.py RESULTS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    rows = defaultdict(list)
    with open(path) as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                rows[(d["bench"], d["impl"], d.get("mode", ""))].append(d)

    def med(bench, impl, mode, field):
        values = [r[field] for r in rows.get((bench, impl, mode), []) if isinstance(r.get(field), (int, float))]
        return (statistics.median(values), min(values), max(values)) if values else None

    def rate(m):
        return "-" if m is None else f"{m[0] / 1e6:.2f} M/s ({m[1] / 1e6:.2f}-{m[2] / 1e6:.2f})"

    def ratio(a, b):
        return None if a is None or b is None or b[0] == 0 else a[0] / b[0]

    reps = max((len(v) for v in rows.values()), default=0)
    print(f"\n== Coordination: medians of {reps} repetition(s), (range); ratios of medians")
    goals = []
    print(f"\n{'items between two tasks, per second':38}{'Meanwhile':>28}{'Channel<T>':>28}{'asyncio':>28}{'vs Channel':>12}{'vs asyncio':>12}")
    for mode in ("single", "batch"):
        mw, ch, aio = (med("queue", i, mode, "rate") for i in ("meanwhile", "channel", "asyncio"))
        vc, va = ratio(mw, ch), ratio(mw, aio)
        print(f"  {mode:36}{rate(mw):>28}{rate(ch):>28}{rate(aio):>28}{fmt_x(vc):>12}{fmt_x(va):>12}")
        goals.append((f"queue {mode} >= 3x Channel<T>", vc, 3))
        goals.append((f"queue {mode} >= 20x asyncio.Queue", va, 20))
    print(f"\n{'lock and unlock, contended, per second':38}{'Meanwhile':>28}{'SemaphoreSlim':>28}{'asyncio':>28}{'vs Sem.Slim':>12}{'vs asyncio':>12}")
    for hold, label in (("none", "taking turns"), ("yield", "held across a yield")):
        mw, ss, aio = (med("lock", i, hold, "rate") for i in ("meanwhile", "semaphoreslim", "asyncio"))
        vs = ratio(mw, ss)
        print(f"  {label:36}{rate(mw):>28}{rate(ss):>28}{rate(aio):>28}{fmt_x(vs):>12}{fmt_x(ratio(mw, aio)):>12}")
        goals.append((f"lock ({label}) >= 3x SemaphoreSlim(1)", vs, 3))
    print(f"\n{'bytes per blocked waiter':38}{'the wait':>14}{'a blocked task':>16}")
    for impl, label in (("meanwhile", "Meanwhile LoopQueue.GetAsync"), ("semaphoreslim", "SemaphoreSlim.WaitAsync"),
                        ("channel", "Channel<T> ReadAsync"), ("asyncio", "asyncio Queue.get")):
        w, t = med("waiters", impl, "", "bytes_per_wait"), med("waiters", impl, "", "bytes_per_task")
        print(f"  {label:36}{'-' if w is None else f'{w[0]:.0f} B':>14}{'-' if t is None else f'{t[0]:.0f} B':>16}")
    w = med("waiters", "meanwhile", "", "bytes_per_wait")
    print("\n== goals (issue 16)")
    for label, value, goal in goals:
        print(f"  {label:44}{fmt_x(value):>10}  {verdict(None if value is None else value >= goal)}")
    print(f"  {'memory per blocked waiter <= 100 B':44}{'-' if w is None else f'{w[0]:.0f} B':>10}  {verdict(None if w is None else w[0] <= 100)}")


def fmt_x(value):
    return "-" if value is None else f"{value:.2f}x"


def verdict(ok):
    return "unmeasured" if ok is None else ("MET" if ok else "MISSED")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
