#!/usr/bin/env bash
# Tollgate side by side with Squid, tinyproxy and the direct connection, in one run of the shared peer harness
# (../shared/bench/peer-bench.sh). One command:
#
#   bench/peer-bench.sh                       # build, start Tollgate, warm it up, run every test, 3 rounds
#   TESTS="http_small tunnel_setup" ROUNDS=1 bench/peer-bench.sh
#
# Environment: HARNESS (default ../shared/bench, next to the checkout), SKIP_BUILD=1 to use the last build,
# JAVA_OPTS (default: the packaged ones, packaging/src/pkg/default/tollgate), TOLLGATE_WARMUP_S (default 20: a
# JVM must be warm, see docs/performance.md), and everything peer-bench.sh reads (TESTS, ROUNDS, DURATION, PEERS,
# ...).
# Needs what the harness needs (Debian: squid tinyproxy wrk nginx-light curl openssl python3 iproute2).
# All traffic stays on loopback. Tollgate is stopped by its PID when the script ends, however it ends.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HARNESS="${HARNESS:-$ROOT/../shared/bench}"
ORIGIN_TLS_PORT="${ORIGIN_TLS_PORT:-18443}"
WARMUP_S="${TOLLGATE_WARMUP_S:-20}"

[[ -x "$HARNESS/peer-bench.sh" ]] || { echo "no harness at $HARNESS (set HARNESS)" >&2; exit 2; }
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$ROOT" && mvn -q -B -DskipTests package)
fi

WORK="$(mktemp -d /tmp/tollgate-bench.XXXXXX)"
chmod 0755 "$WORK"   # the warm-up's origin (nginx, user nobody) serves its files from under it
. "$ROOT/bench/start-tollgate.sh"
# The packaged defaults (packaging's /etc/default/tollgate); docs/performance.md says why.
PACKAGED_JAVA_OPTS="$(packaged_java_opts)"
export JAVA_OPTS="${JAVA_OPTS:-$PACKAGED_JAVA_OPTS}"
trap stop_tollgates EXIT
start_tollgate "$ROOT/packaging/target/tollgate" "$WORK"
PID=$TOLLGATE_PID
PORT=$TOLLGATE_PORT
echo "Tollgate pid $PID on 127.0.0.1:$PORT (log $WORK/tollgate.log); JAVA_OPTS=$JAVA_OPTS" >&2

# Warm-up: one short pass of the harness over Tollgate alone (no peers), results thrown away, so that the JIT
# has compiled the forwarding and the tunnel paths before anything is measured. The harness warms each HTTP
# test itself (WARMUP) but not tunnel_setup, whose 200 tunnels would otherwise pay for the compiler.
echo "warming Tollgate up for about $((WARMUP_S * 3)) s" >&2
(cd "$HARNESS" && PEERS="" NON_PEERS=tollgate TESTS="http_small http_64k tunnel_setup" ROUNDS=1 \
  DURATION="$WARMUP_S" WARMUP=2 SETUP_N=2000 RUN_DIR="$WORK/warmup" \
  ./peer-bench.sh "tollgate=127.0.0.1:$PORT/$PID" > /dev/null 2> "$WORK/warmup.log") ||
  { echo "warm-up failed: $WORK/warmup.log" >&2; exit 1; }

cd "$HARNESS"
NON_PEERS="tollgate${NON_PEERS:+ $NON_PEERS}" WARMUP="${WARMUP:-15}" \
  ./peer-bench.sh --start-peers "tollgate=127.0.0.1:$PORT/$PID"
