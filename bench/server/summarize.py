#!/usr/bin/env python3
"""Medians, ratios and the issue-4 goals from bench/server/run.sh's JSON lines.   summarize.py results.jsonl"""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
order = ["meanwhile", "meanwhile-before", "meanwhile-portable", "kestrel", "kestrel-raw", "nginx", "node"]

def med(values):
    return statistics.median(values) if values else float("nan")

def table(mode):
    out = {}
    for s in order:
        rs = [r for r in rows if r["server"] == s and r["mode"] == mode]
        if not rs:
            continue
        out[s] = {
            "rps": med([r["rps"] for r in rs]),
            "runs": [r["rps"] for r in rs],
            "cpu_us": med([r["cpu_s"] * 1e6 / r["requests"] for r in rs if r["requests"]]),
            "busy": med([100 * r["cpu_s"] / r["seconds"] for r in rs]),
            "alloc": med([r["alloc_bytes"] / r["requests"] for r in rs if r["requests"]]) if s.startswith("meanwhile") else None,
            "gc0": med([r["gc0"] for r in rs]) if s.startswith("meanwhile") else None,
            "errors": sum(r["errors"] != "-" for r in rs),
        }
    return out

def ratio(t, a, b):
    return t[a]["rps"] / t[b]["rps"] if a in t and b in t else float("nan")

for mode, title in (("plain", "keep-alive, one request per write"), ("pipeline", "pipelined, 16 requests per write")):
    t = table(mode)
    if not t:
        continue
    n = len(next(iter(t.values()))["runs"])
    print(f"{title} (medians of {n} rounds)")
    print(f"  {'server':<20} {'req/s':>10} {'vs nginx':>9} {'vs Kestrel':>10} {'vs Node':>8} {'CPU/req':>9} {'server busy':>11} {'alloc/req':>10}  runs")
    for s, v in t.items():
        alloc = f"{v['alloc']:.1f} B" if v["alloc"] is not None else ""
        errors = f"  ({v['errors']} runs with errors)" if v["errors"] else ""
        print(f"  {s:<20} {v['rps']:>10,.0f} {ratio(t, s, 'nginx'):>8.2f}x {ratio(t, s, 'kestrel'):>9.2f}x {ratio(t, s, 'node'):>7.2f}x "
              f"{v['cpu_us']:>6.2f} µs {v['busy']:>9.0f} % {alloc:>10}  {' / '.join(f'{x:,.0f}' for x in v['runs'])}{errors}")
    print()

plain, pipe = table("plain"), table("pipeline")
print("goals (issue 4)")
if "meanwhile" in plain and "nginx" in plain:
    m, g = plain["meanwhile"], plain["nginx"]
    print(f"  plain req/s >= 1.0 x nginx:            {m['rps'] / g['rps']:.2f}x  {'met' if m['rps'] >= g['rps'] else 'MISSED'}")
    print(f"  plain CPU/request <= nginx's:          {m['cpu_us']:.2f} vs {g['cpu_us']:.2f} µs  {'met' if m['cpu_us'] <= g['cpu_us'] else 'MISSED'}")
if "meanwhile" in pipe and "kestrel" in pipe:
    m, k = pipe["meanwhile"], pipe["kestrel"]
    print(f"  pipelined req/s >= 1.5 x Kestrel:      {m['rps'] / k['rps']:.2f}x  {'met' if m['rps'] >= 1.5 * k['rps'] else 'MISSED'}")
if "meanwhile" in plain:
    a = plain["meanwhile"]["alloc"]
    print(f"  no allocation per request once warm:   {a:.1f} B/request  {'met' if a < 1 else 'MISSED'}")
for mode, t in (("plain", plain), ("pipelined", pipe)):
    if "meanwhile" in t and "meanwhile-before" in t:
        a, b = t["meanwhile"], t["meanwhile-before"]
        print(f"  after/before, {mode + ':':<11}            {a['rps'] / b['rps']:.3f}x req/s, CPU/request {a['cpu_us']:.2f} vs {b['cpu_us']:.2f} µs, alloc {a['alloc']:.1f} vs {b['alloc']:.1f} B")
