#!/usr/bin/env python3
"""Prints the CPU time (user + system, in seconds) of a process and all its descendants, from /proc/<pid>/stat.

   cputicks.py PID

Threads are included (a process's stat sums its threads); children are found through the ppid field, so nginx's
master and worker count together. Clock ticks are converted with SC_CLK_TCK.
"""
import os
import sys

def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # the command name is in parentheses and may contain spaces: split after the last ')'
    fields = text[text.rindex(")") + 2:].split()
    ppid = int(fields[1])
    utime, stime = int(fields[11]), int(fields[12])
    return ppid, utime + stime

def tree_ticks(root):
    children = {}
    ticks = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid, t = stat(int(name))
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
        ticks[int(name)] = t
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total

print(f"{tree_ticks(int(sys.argv[1])) / os.sysconf('SC_CLK_TCK'):.2f}")
