#!/usr/bin/env python3
"""Prints the table of bench/loop.sh from its raw JSON lines: medians over repetitions, ratios, the issue's goals.

usage: summarize.py RESULTS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

IMPLS = ("meanwhile", "node", "asyncio")
NAMES = {"meanwhile": "Meanwhile", "node": "Node.js", "asyncio": "asyncio"}


def load(path):
    groups = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            groups[(d["bench"], d["impl"], d.get("mode", ""), d.get("n", 0))].append(d)
    return groups


def med(rows, field):
    values = [r[field] for r in rows if isinstance(r.get(field), (int, float))]
    return statistics.median(values) if values else None


def fmt(value, kind):
    if value is None:
        return "-"
    if kind == "rate":
        return f"{value / 1e6:.3f} M/s" if value < 1e6 else f"{value / 1e6:.2f} M/s"
    if kind == "s":
        return f"{value:.3f} s"
    if kind == "mb":
        return f"{value:.0f} MB"
    if kind == "ms/s":
        return f"{value:.2f} ms/s"
    if kind == "b":
        return f"{value:.0f} B"
    if kind == "%":
        return f"{value * 100:.0f}%"
    return f"{value:g}"


def advantage(mw, peer, higher_is_better):
    """How many times better Meanwhile is than the peer (> 1: Meanwhile better)."""
    if mw is None or peer is None or mw == 0 or peer == 0:
        return "-"
    return f"{(mw / peer) if higher_is_better else (peer / mw):.2f}x"


def main(path):
    g = load(path)

    def find(bench, impl, mode=None, n=None):
        rows = []
        for (b, i, m, count), rs in g.items():
            if b == bench and i == impl and (mode is None or m == mode) and (n is None or count == n):
                rows.extend(rs)
        return rows

    reps = max((len(rs) for rs in g.values()), default=0)
    print(f"\n== Event loop: medians of {reps} repetition(s); 'vs' columns: how many times better Meanwhile is (> 1: better)")
    header = f"{'':38}{'Meanwhile':>14}{'Node.js':>14}{'asyncio':>14}{'vs Node':>10}{'vs asyncio':>12}"

    def row(label, values, kind, higher_is_better=None):
        mw, node, aio = values
        cells = "".join(f"{fmt(v, kind):>14}" for v in values)
        ratios = ""
        if higher_is_better is not None:
            ratios = f"{advantage(mw, node, higher_is_better):>10}{advantage(mw, aio, higher_is_better):>12}"
        print(f"  {label:36}{cells}{ratios}")

    spawn = {i: find("spawn", i) for i in IMPLS}
    print("\nspawn, yield once, complete (batches of 10,000)")
    print(header)
    ns = ", ".join(f"{NAMES[i]} {int(spawn[i][0]['n']):,}" for i in IMPLS if spawn[i])
    row(f"tasks per second", [med(spawn[i], "rate") for i in IMPLS], "rate", True)
    row("peak RSS", [med(spawn[i], "peak_rss_mb") for i in IMPLS], "mb", False)
    baseline = find("spawn", "baseline")
    if baseline:
        # Another commit's Meanwhile (BASELINE=...), measured in the same repetitions: the 'vs' columns compare it.
        row("  baseline commit: tasks per second", [med(baseline, "rate")] + [med(spawn[i], "rate") for i in IMPLS[1:]], "rate", True)
        now, before = med(spawn["meanwhile"], "rate"), med(baseline, "rate")
        if now and before:
            print(f"  {'  this tree against the baseline':36}{now / before:>14.3f}x")
    row("bytes allocated per task", [med(spawn["meanwhile"], "alloc_per_task"), None, None], "b")
    row("gen0 GCs per run", [med(spawn["meanwhile"], "gen0"), None, None], "")
    row("gen1 GCs per run", [med(spawn["meanwhile"], "gen1"), None, None], "")
    row("minor page faults per run", [med(spawn["meanwhile"], "minor_faults"), None, None], "")
    row("share of time in GC pauses", [med(spawn["meanwhile"], "gc_pause_share"), None, None], "%")
    tuned = find("spawn", "meanwhile-gc")
    if tuned:
        # The same program under SPAWN_GC (loop.sh), in the same repetitions: the default row above stays the headline.
        row("  with SPAWN_GC: tasks per second", [med(tuned, "rate")] + [med(spawn[i], "rate") for i in IMPLS[1:]], "rate", True)
        row("  with SPAWN_GC: peak RSS", [med(tuned, "peak_rss_mb")] + [med(spawn[i], "peak_rss_mb") for i in IMPLS[1:]], "mb", False)
        row("  with SPAWN_GC: gen0 GCs per run", [med(tuned, "gen0"), None, None], "")
        row("  with SPAWN_GC: minor page faults per run", [med(tuned, "minor_faults"), None, None], "")
    print(f"  (tasks per run: {ns})")
    before = find("spawn", "meanwhile-before")
    if before and spawn["meanwhile"]:
        after_rate, before_rate = med(spawn["meanwhile"], "rate"), med(before, "rate")
        runs = lambda rs: " / ".join(f"{r['rate']:,.0f}" for r in rs)
        print(f"  after/before (BASELINE): {after_rate:,.0f} vs {before_rate:,.0f} tasks/s = {after_rate / before_rate:.3f}x; "
              f"runs {runs(spawn['meanwhile'])} vs {runs(before)}")

    print("\nconcurrent 1-second sleeps, 100,000")
    print(header)
    s100 = {i: find("sleeps", i, None if i != "meanwhile" else "spawn", 100_000) for i in IMPLS}
    row("wall, first spawn to last wake", [med(s100[i], "wall_s") for i in IMPLS], "s", False)
    row("  of which arming (all pending)", [med(s100[i], "armed_s") for i in IMPLS], "s", False)
    row("peak RSS", [med(s100[i], "peak_rss_mb") for i in IMPLS], "mb", False)

    print("\nconcurrent 1-second sleeps, 1,000,000 (Meanwhile only)")
    print(f"{'':38}{'wall':>10}{'armed':>10}{'peak RSS':>10}{'heap':>10}{'B/sleep':>10}{'GCs 0/1/2':>12}{'GC pauses':>11}")
    for mode, label in (("spawn", "one spawned task per sleep"), ("direct", "one async method per sleep"), ("timers", "bare loop.Delay ValueTasks")):
        rows = find("sleeps", "meanwhile", mode, 1_000_000)
        if not rows:
            continue
        gcs = "/".join(f"{med(rows, k):g}" for k in ("gen0", "gen1", "gen2"))
        print(f"  {label:36}{fmt(med(rows, 'wall_s'), 's'):>10}{fmt(med(rows, 'armed_s'), 's'):>10}"
              f"{fmt(med(rows, 'peak_rss_mb'), 'mb'):>10}{fmt(med(rows, 'heap_armed_mb'), 'mb'):>10}"
              f"{fmt(med(rows, 'alloc_per_sleep'), 'b'):>10}{gcs:>12}{fmt(med(rows, 'gc_pause_s'), 's'):>11}")

    print("\nidle loop: process CPU while waiting 1 s on one timer")
    print(header)
    idle = {i: find("idle", i) for i in IMPLS}
    row("process CPU", [med(idle[i], "cpu_ms_per_s") for i in IMPLS], "ms/s", False)

    print("\n== goals (issue 2)")
    rate = med(spawn["meanwhile"], "rate")
    idle_cpu = med(idle["meanwhile"], "cpu_ms_per_s")

    def verdict(ok):
        return "unmeasured" if ok is None else ("MET" if ok else "MISSED")

    print(f"  spawn >= 5 M tasks/s:                        {fmt(rate, 'rate'):>12}  {verdict(None if rate is None else rate >= 5e6)}")
    # The goal's sleeper is an ordinary async method (the loop's tasks are ordinary C# async methods); one spawned
    # LoopTask per sleep (a task with its own cancellation scope, like asyncio.create_task) is shown against it too.
    for mode, label in (("direct", "async methods"), ("spawn", "spawned tasks")):
        m1 = find("sleeps", "meanwhile", mode, 1_000_000)
        wall, peak = med(m1, "wall_s"), med(m1, "peak_rss_mb")
        print(f"  1,000,000 sleeps under 1.2 s ({label}):  {fmt(wall, 's'):>10}  {verdict(None if wall is None else wall < 1.2)}")
        print(f"  1,000,000 sleeps under 300 MB ({label}): {fmt(peak, 'mb'):>10}  {verdict(None if peak is None else peak < 300)}")
    print(f"  idle loop under 20 ms CPU per second:        {fmt(idle_cpu, 'ms/s'):>12}  {verdict(None if idle_cpu is None else idle_cpu < 20)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
