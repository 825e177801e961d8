#!/usr/bin/env bash
# Does the proxy keep its speed as the access log grows (issue #24)? For each ROWS given, one build side by side
# with itself in one run of compare-builds.sh: "base" on an empty log, "new" on a log that already holds ROWS rows
# (bench/PreloadAccessLog: a month of realistic rows, numbered, chained and indexed as the daemon would have
# stored them). One command:
#
#   bench/log-size-decay.sh 1000000 10000000 100000000
#
# Each preloaded state directory is made once and kept, PRELOAD_DIR/<rows> (PRELOAD_DIR default
# /tmp/tollgate-preload); one that an interrupted preload left half-made is made again. Each run starts from a copy
# of it, so it stays as preloaded (STATE_IN_PLACE=1: the daemon uses it in place, no copy, and it grows by what the
# run stores). The preload stored about 26,000 rows/s on this 2-core machine, shared (40,000 once warm), and takes
# about 310-580 bytes of disk a row (docs/performance.md, "Preloading the access log"): 100 million rows took 63
# minutes and 31 GB, and a copy takes as much again, so give 100,000,000 with STATE_IN_PLACE=1.
# Long runs stay behind this script; mvn verify only preloads 20,000 rows (PreloadAccessLogIT).
#
# Needs DIST (default packaging/target/tollgate) and bench/target/benchmarks.jar, built first:
#   mvn -B -q package -DskipTests -pl packaging,bench -am
# Environment: DIST, PRELOAD_DIR, PRELOAD_DAYS (the span the rows are spread over, ending now; default 30, within
# the default 90 days' retention), STATE_IN_PLACE, and everything compare-builds.sh reads (TESTS default
# http_small, ROUNDS, DURATION, TOLLGATE_WARMUP_S, HARNESS, PEERS...). Each run's table is also kept in
# RESULTS_DIR (default a new /tmp/tollgate-decay.XXXXXX), one file per ROWS.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIST="${DIST:-$ROOT/packaging/target/tollgate}"
JAR="$ROOT/bench/target/benchmarks.jar"
PRELOAD_DIR="${PRELOAD_DIR:-/tmp/tollgate-preload}"
PRELOAD_DAYS="${PRELOAD_DAYS:-30}"

[[ $# -ge 1 ]] || { echo "usage: $0 ROWS... (rows preloaded into the access log, e.g. 1000000)" >&2; exit 2; }
for rows in "$@"; do
  [[ "$rows" =~ ^[1-9][0-9]*$ ]] || { echo "ROWS must be whole numbers above 0, not \"$rows\"" >&2; exit 2; }
done
[[ -x "$DIST/bin/tollgate" ]] || { echo "no $DIST/bin/tollgate: build it, or set DIST" >&2; exit 2; }
[[ -f "$JAR" ]] || { echo "no $JAR: mvn -B -q package -DskipTests -pl packaging,bench -am" >&2; exit 2; }
RESULTS_DIR="${RESULTS_DIR:-$(mktemp -d /tmp/tollgate-decay.XXXXXX)}"
mkdir -p "$PRELOAD_DIR" "$RESULTS_DIR"

# preloaded ROWS: the state directory holding ROWS rows, made now unless a finished one is there (ROWS.preloaded,
# written once the preload returned).
preloaded() {
  local rows=$1 state="$PRELOAD_DIR/$1"
  if [[ ! -f "$state.preloaded" ]]; then
    rm -rf "$state"
    echo "preloading $rows rows into $state" >&2
    # The node is left to PreloadAccessLog's default, the name the daemon gives itself: start-tollgate.sh's config
    # names none.
    nice -n 10 java -cp "$JAR" dev.tollgate.bench.PreloadAccessLog --state-dir "$state" --rows "$rows" \
      --days "$PRELOAD_DAYS" | tee "$state.preloaded.tmp" >&2
    mv "$state.preloaded.tmp" "$state.preloaded"
  fi
  echo "$state"
}

for rows in "$@"; do
  state="$(preloaded "$rows")"
  echo "== $rows rows: base on an empty log, new on a copy of $state" >&2
  BASE_STATE_DIR="" NEW_STATE_DIR="$state" TESTS="${TESTS:-http_small}" \
    "$ROOT/bench/compare-builds.sh" "$DIST" "$DIST" | tee "$RESULTS_DIR/$rows.txt"
done
echo "tables in $RESULTS_DIR" >&2
