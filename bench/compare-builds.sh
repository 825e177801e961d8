#!/usr/bin/env bash
# Two Tollgate builds (or one build with two sets of JVM flags) side by side in one run of the shared peer
# harness, with Squid as the reference: the way to tell whether a change helped on a shared, noisy machine,
# where two separate runs minutes apart differ by 5-10 % on their own. One command:
#
#   bench/compare-builds.sh BASE_DIR NEW_DIR
#
# BASE_DIR and NEW_DIR are distribution folders (packaging/target/tollgate, copied aside before a change:
# `cp -a packaging/target/tollgate /tmp/tollgate-base`). Both daemons run at once, with durable access logging
# on as shipped; each is warmed up (TOLLGATE_WARMUP_S per test, default 30), then the harness measures them
# in interleaved rounds (defaults: TESTS=http_small ROUNDS=3 DURATION=10). The idle one only polls its
# database meanwhile. The harness names them "base" and "new".
# At the end it prints each daemon's peak and current resident set (VmHWM, VmRSS from /proc). Meanwhile it samples
# both resident sets every RSS_EVERY seconds (default 5) into WORK/rss.tsv, the curve through the whole run, and keeps
# the harness's log in WORK/harness.log; bench/rss-curve.py WORK prints each daemon's largest RSS in each test.
#
# Environment: BASE_JAVA_OPTS and NEW_JAVA_OPTS (default: the packaged JAVA_OPTS), BASE_STORE_KEYS and
# NEW_STORE_KEYS (store keys added to each one's config, e.g. NEW_STORE_KEYS='"fsync": true' to weigh an option
# with one build given twice), BASE_CONFIG_KEYS and NEW_CONFIG_KEYS (top-level keys added to each one's config, e.g.
# NEW_CONFIG_KEYS='"sinks": [{"name": "f", "type": "file", "path": "/tmp/f/access.jsonl"}]' to weigh a push sink),
# BASE_STATE_DIR and NEW_STATE_DIR (a state directory each daemon starts from, copied
# unless STATE_IN_PLACE=1, e.g. one build given twice, NEW_STATE_DIR a log of a million rows that
# bench/log-size-decay.sh preloaded; default: an empty one), NEW_FIRST=1 (hand the harness "new" before "base": its
# rotation otherwise measures "base" right before "new" in three rounds of four, and the daemon measured second pays
# for the first one's writer still at work; run both orders, docs/performance.md session 17), PEERS (default squid),
# HARNESS (default ../shared/bench), and everything peer-bench.sh reads. All traffic stays on loopback; both
# daemons are stopped by their PIDs when the script ends, however it ends.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HARNESS="${HARNESS:-$ROOT/../shared/bench}"
ORIGIN_TLS_PORT="${ORIGIN_TLS_PORT:-18443}"
WARMUP_S="${TOLLGATE_WARMUP_S:-30}"

[[ $# -eq 2 ]] || { echo "usage: $0 BASE_DIR NEW_DIR (distribution folders)" >&2; exit 2; }
for dist in "$1" "$2"; do
  [[ -x "$dist/bin/tollgate" ]] || { echo "no $dist/bin/tollgate: give a distribution folder" >&2; exit 2; }
done
[[ -x "$HARNESS/peer-bench.sh" ]] || { echo "no harness at $HARNESS (set HARNESS)" >&2; exit 2; }

WORK="$(mktemp -d /tmp/tollgate-compare.XXXXXX)"
chmod 0755 "$WORK"
. "$ROOT/bench/start-tollgate.sh"
PACKAGED_JAVA_OPTS="$(packaged_java_opts)"
RSS_SAMPLER=""
trap '[[ -n "$RSS_SAMPLER" ]] && kill "$RSS_SAMPLER" 2>/dev/null; stop_tollgates' EXIT

STORE_KEYS="${BASE_STORE_KEYS:-}" CONFIG_KEYS="${BASE_CONFIG_KEYS:-}" TOLLGATE_STATE_FROM="${BASE_STATE_DIR:-}" JAVA_OPTS="${BASE_JAVA_OPTS:-$PACKAGED_JAVA_OPTS}" \
  start_tollgate "$1" "$WORK/base"
BASE_TARGET="base=127.0.0.1:$TOLLGATE_PORT/$TOLLGATE_PID"
STORE_KEYS="${NEW_STORE_KEYS:-}" CONFIG_KEYS="${NEW_CONFIG_KEYS:-}" TOLLGATE_STATE_FROM="${NEW_STATE_DIR:-}" JAVA_OPTS="${NEW_JAVA_OPTS:-$PACKAGED_JAVA_OPTS}" \
  start_tollgate "$2" "$WORK/new"
NEW_TARGET="new=127.0.0.1:$TOLLGATE_PORT/$TOLLGATE_PID"
TARGETS=("$BASE_TARGET" "$NEW_TARGET")
[[ "${NEW_FIRST:-0}" == 1 ]] && TARGETS=("$NEW_TARGET" "$BASE_TARGET")
echo "base: $1 ($BASE_TARGET), new: $2 ($NEW_TARGET); work folder $WORK" >&2

# rss PID: the resident set of PID in KiB, or - once it has gone.
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo -; }
( printf 'time\tbase_kib\tnew_kib\n'
  while :; do
    printf '%s\t%s\t%s\n' "$(date +%H:%M:%S)" "$(rss "${BASE_TARGET##*/}")" "$(rss "${NEW_TARGET##*/}")"
    sleep "${RSS_EVERY:-5}"
  done ) > "$WORK/rss.tsv" &
RSS_SAMPLER=$!

# jit_and_cpu PID: "COMPILES COMPILE_MS CPU_MS" so far: the JIT's compilations and the time spent in them (the JVM's
# own counters, sun.ci.totalCompiles and java.ci.totalTime, which count compiler threads that have exited too), and
# the process's CPU time.
jit_and_cpu() {
  local stat fields
  stat="$(cat "/proc/$1/stat")"
  read -ra fields <<< "${stat##*) }"
  jcmd "$1" PerfCounter.print 2>/dev/null | awk -F= -v cpu="$((fields[11] + fields[12]))" -v hz="$(getconf CLK_TCK)" '
    $1 == "sun.ci.totalCompiles" { n = $2 } $1 == "java.ci.totalTime" { t = $2 } $1 == "sun.os.hrt.frequency" { f = $2 }
    END { printf "%d %d %d\n", n, f ? 1000 * t / f : 0, 1000 * cpu / hz }'
}

cd "$HARNESS"
echo "warming both up for about $((WARMUP_S * 3)) s each" >&2
PEERS="" NON_PEERS="base new" TESTS="http_small http_64k tunnel_setup" ROUNDS=1 DURATION="$WARMUP_S" \
  WARMUP=2 SETUP_N=2000 RUN_DIR="$WORK/warmup" ./peer-bench.sh "${TARGETS[@]}" \
  > /dev/null 2> "$WORK/warmup.log" || { echo "warm-up failed: $WORK/warmup.log" >&2; exit 1; }
{ cat "$WORK/warmup.log"; echo "[$(date +%H:%M:%S)] measured rounds begin"; } > "$WORK/harness.log"
declare -A JIT_BEFORE
for target in "$BASE_TARGET" "$NEW_TARGET"; do
  JIT_BEFORE[$target]="$(jit_and_cpu "${target##*/}")"
done

PEERS="${PEERS:-squid}" NON_PEERS="base new${NON_PEERS:+ $NON_PEERS}" TESTS="${TESTS:-http_small}" \
  ROUNDS="${ROUNDS:-3}" DURATION="${DURATION:-10}" WARMUP="${WARMUP:-5}" \
  ./peer-bench.sh --start-peers "${TARGETS[@]}" 2> >(tee -a "$WORK/harness.log" >&2)

# Memory after the run (issue #24's RSS target): the peak (VmHWM) and the resident set now, of each daemon. And how much
# of each daemon's CPU in the measured rounds its JIT compiler threads still took: C2 goes on compiling long after
# the warm-up, and a daemon that compiled more while measured is slower for it (docs/performance.md, session 19).
for target in "$BASE_TARGET" "$NEW_TARGET"; do
  read -r n0 ms0 cpu0 <<< "${JIT_BEFORE[$target]}"
  read -r n1 ms1 cpu1 <<< "$(jit_and_cpu "${target##*/}")"
  echo "${target%%=*}: in the measured rounds, $((n1 - n0)) JIT compilations taking $((ms1 - ms0)) ms" \
       "against $((cpu1 - cpu0)) ms of the daemon's CPU" >&2
  echo "${target%%=*}: $(grep -E '^Vm(HWM|RSS)' "/proc/${target##*/}/status" | tr -s ' \t' ' ' | tr '\n' ' ')" >&2
done
echo "resident sets through the run: $WORK/rss.tsv (bench/rss-curve.py $WORK)" >&2
