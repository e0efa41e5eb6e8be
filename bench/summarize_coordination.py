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
        # The goal (issue 16: "lock and unlock with a contender") is the hand-off alone. Held across a yield, both sides
        # also pay a switch through the loop (the yield floor, ~48 ns): 3x there would need the lock itself to cost
        # under ~8 ns (SemaphoreSlim's row is ~168 ns), so that row is shown, not judged.
        if hold == "none":
            goals.append((f"lock ({label}) >= 3x SemaphoreSlim(1)", vs, 3))
    cpu = lambda bench, impl, mode: med(bench, impl, mode, "cpu_ns_per_op")
    print(f"\n{'CPU time per operation (ns; load disturbs it less)':52}{'taking turns':>16}{'across a yield':>16}")
    for impl, label in (("meanwhile", "Meanwhile LoopLock"), ("baseline", "  the same, BASELINE's library"),
                        ("semaphoreslim", "SemaphoreSlim(1)"), ("yield", "floor: a yield per turn, no lock"),
                        ("bare", "floor: bare .NET await, no loop")):
        values = [cpu("lock", impl, hold) for hold in ("none", "yield")]
        if all(v is None for v in values):
            continue
        print(f"  {label:50}" + "".join(f"{'-' if v is None else f'{v[0]:.1f} ({v[1]:.0f}-{v[2]:.0f})':>16}" for v in values))
    for mode in ("single", "batch"):
        b = med("queue", "baseline", mode, "rate")
        if b is not None:
            m = med("queue", "meanwhile", mode, "rate")
            print(f"  queue {mode}: BASELINE's library {rate(b)}, this tree {fmt_x(ratio(m, b))} of it")
    for hold in ("none", "yield"):
        b = med("lock", "baseline", hold, "rate")
        if b is not None:
            m = med("lock", "meanwhile", hold, "rate")
            print(f"  lock {hold}: BASELINE's library {rate(b)}, this tree {fmt_x(ratio(m, b))} of it")
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
