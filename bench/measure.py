#!/usr/bin/env python3
"""measure.py RUNS NAME CMD...: run CMD RUNS times (output discarded) and print
"NAME median_wall_s median_cpu_s max_rss_kib".

Wall and CPU time (user + sys, the command's and its children's) are measured
here to the millisecond; /usr/bin/time's own figures are in hundredths, too coarse
for runs of a few tens of ms. Peak memory comes from /usr/bin/time (%M), since a
child forked from Python would count Python's own pages in its peak.
"""
import os
import statistics
import sys
import tempfile
import time

runs, name, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
walls, cpus, rss = [], [], 0
with tempfile.NamedTemporaryFile("r") as out:
    for _ in range(runs):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.execvp("/usr/bin/time", ["/usr/bin/time", "-o", out.name, "-f", "%M", *cmd])
        _, _, ru = os.wait4(pid, 0)
        walls.append(time.perf_counter() - t0)
        cpus.append(ru.ru_utime + ru.ru_stime)
        out.seek(0)
        lines = out.read().split()
        if lines and lines[-1].isdigit():
            rss = max(rss, int(lines[-1]))
print(f"{name} {statistics.median(walls):.3f} {statistics.median(cpus):.3f} {rss}")
