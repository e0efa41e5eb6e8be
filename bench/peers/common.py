"""Shared by the Python asyncio peers: argument parsing, peak RSS and the median, in the shape bench/loop.sh reads."""
import argparse
import resource
import statistics


def parse_args(description, **defaults):
    parser = argparse.ArgumentParser(description=description)
    for name, value in defaults.items():
        parser.add_argument("--" + name, type=type(value), default=value)
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def peak_rss_mb():
    """VmHWM from /proc/self/status, as the .NET and Node peers read it; ru_maxrss elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


median = statistics.median
