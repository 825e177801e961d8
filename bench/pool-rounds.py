#!/usr/bin/env python3
"""Pools the rounds of several runs of bench/compare-builds.sh, each with its own daemon starts (issue #24).

Usage: bench/pool-rounds.py OUT   (the folder bench/compare-starts.sh names; it holds startN.out and startN.err)

One run of compare-builds.sh starts each daemon once, and its rounds then measure the same two JIT-compiled
processes again and again: on this kind of machine two starts of one build differ by more than a change worth
measuring (session 18: 6,785-10,142 req/s for four starts of one build at http_64k). So the unit of replication is
the start. For each test this prints, for "new" against "base":

- the rate ratio of each start (the median of its rounds' ratios, each round's two measurements minutes apart at
  most), with "*" marking the starts that measured "new" first in their rounds;
- the median of those per-start ratios, and how many starts went each way;
- the median of all rounds pooled, and the same split by order (new measured first, base first);
- the CPU per unit (the proxy's CPU time over what it served) and the p99, pooled medians, new against base.

Then each start's JIT compilations in its measured rounds and its peak resident sets.
"""
import glob
import os
import re
import statistics
import sys

# round test target unit value p50_ms p99_ms errors count wall_s proxy_cpu_s ...
ROW = re.compile(r"^(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+[\d.]+"
                 r"\s+([\d.]+)\s")


def rows(path):
    """{(round, test, target): (value, p99_ms, proxy_cpu_s, count)} from the harness's per-round table."""
    found = {}
    for line in open(path):
        m = ROW.match(line)
        if m:
            rnd, test, target = int(m.group(1)), m.group(2), m.group(3)
            found[(rnd, test, target)] = (float(m.group(5)), float(m.group(7)), float(m.group(10)), int(m.group(9)))
    return found


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def ratio(xs):
    """The median of xs as a ratio, or - when there is none (e.g. no start measured "new" first)."""
    return f"{median(xs):.2f}" if xs else "-"


def fmt(xs):
    return ", ".join(f"{x:.2f}" for x in xs)


def main(out):
    starts = sorted(glob.glob(os.path.join(out, "start*.out")), key=lambda p: int(re.findall(r"\d+", p)[-1]))
    if not starts:
        sys.exit(f"no start*.out in {out}")
    tests = {}
    for path in starts:
        err = path[:-4] + ".err"
        new_first = os.path.exists(err) and "NEW_FIRST=1" in open(err).read()
        found = rows(path)
        for (rnd, test, target), base in found.items():
            if target != "base" or (rnd, test, "new") not in found:
                continue
            new = found[(rnd, test, "new")]
            tests.setdefault(test, []).append({"start": path, "new_first": new_first, "rate": new[0] / base[0],
                 "cpu": (new[2] / new[3]) / (base[2] / base[3]) if base[2] > 0 and new[3] and base[3] else None,
                 "p99": (new[1], base[1])})
    for test, rounds in tests.items():
        by_start = {}
        for r in rounds:
            by_start.setdefault((r["start"], r["new_first"]), []).append(r["rate"])
        per_start = [(median(v), nf) for (_, nf), v in by_start.items()]
        ratios = [m for m, _ in per_start]
        cpu = [r["cpu"] for r in rounds if r["cpu"]]
        print(f"{test}: new / base over {len(per_start)} starts, {len(rounds)} rounds")
        print("  by start (median of its rounds; * = new measured first): "
              + ", ".join(f"{m:.2f}{'*' if nf else ''}" for m, nf in per_start))
        print(f"  median of the starts {median(ratios):.2f}; new ahead in {sum(m > 1 for m in ratios)},"
              f" behind in {sum(m < 1 for m in ratios)}")
        print(f"  all rounds pooled: median {ratio([r['rate'] for r in rounds])}"
              f" (new first {ratio([r['rate'] for r in rounds if r['new_first']])},"
              f" base first {ratio([r['rate'] for r in rounds if not r['new_first']])});"
              f" rounds {fmt(sorted(r['rate'] for r in rounds))}")
        p99_new, p99_base = median([r["p99"][0] for r in rounds]), median([r["p99"][1] for r in rounds])
        print(f"  CPU per unit, new / base: median {ratio(cpu)}; p99 ms: new {p99_new:.2f}, base {p99_base:.2f}")
    for path in starts:
        err = path[:-4] + ".err"
        if not os.path.exists(err):
            continue
        notes = [line.strip() for line in open(err)
                 if re.match(r"^(base|new): (in the measured rounds|VmHWM)", line)]
        print(f"{os.path.basename(path)[:-4]}: " + "; ".join(notes))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
