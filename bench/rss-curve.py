#!/usr/bin/env python3
"""Each daemon's resident set through one run of bench/compare-builds.sh (issue #24, target 2).

Usage: bench/rss-curve.py WORK   (the work folder compare-builds.sh names at its start and end)

compare-builds.sh samples both daemons' VmRSS every RSS_EVERY seconds into WORK/rss.tsv and keeps the harness's
log in WORK/harness.log. A sample belongs to the test whose result line the harness logs next (a test's line is
logged when it ends), so each test's row is the largest resident set seen while it, and anything since the
previous line, ran: warm-up tests first, then the measured rounds. The last row is what is left after the run.
"""
import re
import sys


def seconds(hms, last):
    h, m, s = (int(x) for x in hms.split(":"))
    t = 3600 * h + 60 * m + s
    while t < last - 43200:  # past midnight
        t += 86400
    return t


def main(work):
    phases, last, measured = [], 0, False
    for line in open(f"{work}/harness.log"):
        m = re.match(r"\[(\d\d:\d\d:\d\d)\] (.*)", line)
        if not m:
            continue
        last = seconds(m.group(1), last)
        text = m.group(2)
        if text.startswith("measured rounds begin"):
            measured = True
        r = re.match(r"r(\d+) (\S+) (\S+):", text)
        if r:
            phase = (r.group(2), r.group(1), measured)
            # One test's lines, one per target, end one phase: it lasts until the last of them.
            if phases and phases[-1][1] == phase:
                phases[-1] = (last, phase)
            else:
                phases.append((last, phase))
    rows, last = {}, 0
    order = []
    with open(f"{work}/rss.tsv") as f:
        next(f)
        for line in f:
            hms, base, new = line.split()
            last = seconds(hms, last)
            phase = next((p for t, p in phases if t >= last), ("after the run", "", True))
            if phase not in rows:
                rows[phase] = [0, 0, 0]
                order.append(phase)
            row = rows[phase]
            row[0] += 1
            for i, v in ((1, base), (2, new)):
                if v != "-":
                    row[i] = max(row[i], int(v))
    print("| test | round | samples | base max RSS, MiB | new max RSS, MiB |")
    print("| --- | --- | --- | --- | --- |")
    for phase in order:
        test, rnd, meas = phase
        n, base, new = rows[phase]
        label = test if meas else f"{test} (warm-up)"
        print(f"| {label} | {rnd} | {n} | {base / 1024:.0f} | {new / 1024:.0f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: rss-curve.py WORK (the folder compare-builds.sh names)")
    main(sys.argv[1])
