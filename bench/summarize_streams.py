"""Prints the table of bench/streams.sh from its raw JSON lines: medians over the repetitions, ratios, the goal."""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]


def med(bench, impl, key):
    values = [r[key] for r in rows if r["bench"] == bench and r["impl"] == impl and r.get(key) is not None]
    return (statistics.median(values), values) if values else (None, [])


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


echo_impls = ["meanwhile-epoll", "meanwhile-portable", "dotnet-socket", "socat"]
for bench, title, unit, spec in (("echo-pingpong", "TCP echo, 64 connections x 64 B ping-pong", "msg/s", ",.0f"),
                                 ("echo-stream", "TCP echo, 4 connections streaming 64 KiB blocks", "MB/s", ",.0f")):
    per_unit = "µs/msg" if bench == "echo-pingpong" else "ms/GB"
    print(f"\n{title} (median of the repetitions; each repetition is the median of its windows)")
    print(f"| server | {unit} | vs .NET Socket | vs socat | server CPU {per_unit} | server CPU | client CPU | runs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    socket_rate = med(bench, "dotnet-socket", "rate")[0]
    socat_rate = med(bench, "socat", "rate")[0]
    for impl in echo_impls:
        rate, rates = med(bench, impl, "rate")
        if rate is None:
            continue
        cpu_unit = med(bench, impl, "server_cpu_us_per_unit")[0]  # µs per message, or µs per MB = ms per GB
        print(f"| {impl} | {fmt(rate, spec)} | {fmt(rate / socket_rate if socket_rate else None, '.2f')}x"
              f" | {fmt(rate / socat_rate if socat_rate else None, '.2f')}x | {fmt(cpu_unit, '.2f')}"
              f" | {fmt(med(bench, impl, 'server_cpu')[0], '.0%')} | {fmt(med(bench, impl, 'client_cpu')[0], '.0%')}"
              f" | {', '.join(format(r, spec) for r in rates)} |")

idle = [r for r in rows if r["bench"] == "idle-connections"]
if idle:
    count = idle[0]["count"]
    print(f"\nMemory per idle open TCP connection, {count:,} open (median of the repetitions; RSS = VmRSS delta / {count:,},"
          " heap = managed (or V8) heap delta / count, each after a full GC)")
    print("| server | RSS per connection | heap per connection | vs Meanwhile (RSS) | goal ≤ 1 KiB (RSS) | runs (RSS) |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    impls = []
    for r in idle:
        if r["impl"] not in impls:
            impls.append(r["impl"])
    ours = med("idle-connections", "meanwhile-epoll", "rss_per_conn")[0]
    for impl in impls:
        rss, rss_all = med("idle-connections", impl, "rss_per_conn")
        heap = med("idle-connections", impl, "heap_per_conn")[0]
        goal = "met" if rss <= 1024 else "missed"
        print(f"| {impl} | {rss:,.0f} B | {fmt(heap, ',.0f')}{'' if heap is None else ' B'}"
              f" | {fmt(rss / ours if ours else None, '.2f')}x | {goal if impl.startswith('meanwhile') else ''}"
              f" | {', '.join(format(v, ',.0f') for v in rss_all)} |")
