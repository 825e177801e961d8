#!/usr/bin/env bash
# Two Tollgate builds (or one build with two sets of options) compared over several daemon starts: STARTS runs of
# bench/compare-builds.sh (default 4), each starting, warming up and measuring both daemons afresh, every other one
# with NEW_FIRST=1 (so that each build is measured first in half of them), then bench/pool-rounds.py over them all.
#
#   bench/compare-starts.sh BASE_DIR NEW_DIR
#   STARTS=6 TESTS="http_small http_64k" ROUNDS=2 bench/compare-starts.sh BASE_DIR NEW_DIR
#
# Why: one compare-builds.sh run starts each daemon once, and two starts of one build differ by up to 50 % at
# http_64k on this machine (what C2 compiled, and when: docs/performance.md, session 19), more than most changes are
# worth. Its rounds measure the same two processes again, so they cannot tell a change from the luck of one start.
# A start is the unit here: pool-rounds.py gives each start's ratio, their median, and how many went each way.
#
# Everything compare-builds.sh reads passes through (TESTS, ROUNDS, DURATION, BASE_JAVA_OPTS, ...), except
# NEW_FIRST, which this script sets. The runs' outputs stay in OUT (named at the start and the end): startN.out
# (the harness's tables), startN.err (its log, the work folder, the JIT's work and the resident sets).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STARTS="${STARTS:-4}"
[[ $# -eq 2 ]] || { echo "usage: $0 BASE_DIR NEW_DIR (distribution folders)" >&2; exit 2; }
[[ "$STARTS" =~ ^[1-9][0-9]*$ ]] || { echo "STARTS must be a positive whole number, not '$STARTS'" >&2; exit 2; }

OUT="$(mktemp -d /tmp/tollgate-starts.XXXXXX)"
echo "$STARTS starts of $1 (base) and $2 (new); outputs in $OUT" >&2
for i in $(seq 1 "$STARTS"); do
  new_first=$(( i % 2 == 0 ? 1 : 0 ))
  echo "[$(date +%H:%M:%S)] start $i of $STARTS (NEW_FIRST=$new_first)" >&2
  echo "NEW_FIRST=$new_first" > "$OUT/start$i.err"
  NEW_FIRST=$new_first "$ROOT/bench/compare-builds.sh" "$1" "$2" > "$OUT/start$i.out" 2>> "$OUT/start$i.err" \
    || { echo "start $i failed: $OUT/start$i.err" >&2; exit 1; }
done
python3 "$ROOT/bench/pool-rounds.py" "$OUT" | tee "$OUT/pooled.txt"
echo "outputs in $OUT (pooled: $OUT/pooled.txt)" >&2
