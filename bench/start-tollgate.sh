# Sourced by peer-bench.sh and compare-builds.sh: starts one Tollgate for the shared harness, with the packaged JVM
# options unless told otherwise (packaged_java_opts, at the end).
#
# start_tollgate DIST DIR: writes DIR/tollgate.json (durable access logging on, as shipped; loopback
# destinations allowed because the harness's origin is on 127.0.0.1; CONNECT to ORIGIN_TLS_PORT; no auditors'
# SQL server, its port may be taken here; STORE_KEYS, when set, adds store keys, e.g. '"fsync": true'; CONFIG_KEYS
# adds top-level keys, e.g. '"sinks": [{"name": "f", "type": "file", "path": "/tmp/f/access.jsonl"}]'), starts
# DIST/bin/tollgate with the JAVA_OPTS in effect, logging to DIR/tollgate.log, and adds its PID to TOLLGATE_PIDS
# at once (for the caller's EXIT trap). Sets TOLLGATE_PID, and TOLLGATE_PORT once the listener is up; ends the
# script if it does not come up.
#
# The state directory is DIR/state, empty, unless TOLLGATE_STATE_FROM names one to start from, e.g. an access log
# that bench/PreloadAccessLog filled: it is copied to DIR/state, so that the rows this run adds do not change it for
# the next run; with STATE_IN_PLACE=1 the daemon uses that directory itself (no copy, for a log too big to copy; it
# grows by what the run stores).
start_tollgate() {
  local dist=$1 dir=$2 local_host="" state="$2/state"
  mkdir -p "$dir"
  if [[ -n "${TOLLGATE_STATE_FROM:-}" ]]; then
    [[ -f "$TOLLGATE_STATE_FROM/access.mv.db" ]] \
      || { echo "no access log in $TOLLGATE_STATE_FROM (no access.mv.db)" >&2; exit 1; }
    if [[ "${STATE_IN_PLACE:-}" == 1 ]]; then
      state="$TOLLGATE_STATE_FROM"
    else
      cp -a "$TOLLGATE_STATE_FROM" "$state"
    fi
  fi
  # Builds from before allowLocalHost (issue #19) refuse the key; their etc/tollgate.json does not name it.
  grep -q '"allowLocalHost"' "$dist/etc/tollgate.json" && local_host='"allowLocalHost": true,'
  cat > "$dir/tollgate.json" <<JSON
{"stateDir": "$state",
 "listeners": [{"name": "bench", "host": "127.0.0.1", "port": 0, "denyDestinations": [], $local_host
                "connectPorts": [$ORIGIN_TLS_PORT]}],
 "admin": {"port": 0},
 "store": {"sqlPort": -1${STORE_KEYS:+, $STORE_KEYS}}${CONFIG_KEYS:+,
 $CONFIG_KEYS}}
JSON
  "$dist/bin/tollgate" run --config "$dir/tollgate.json" > "$dir/tollgate.log" 2>&1 &
  TOLLGATE_PID=$!
  TOLLGATE_PIDS+=("$TOLLGATE_PID")
  TOLLGATE_PORT=""
  for _ in $(seq 300); do
    TOLLGATE_PORT="$(sed -n 's/.*bench - listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/tollgate.log" | head -1)"
    [[ -n "$TOLLGATE_PORT" ]] && return 0
    kill -0 "$TOLLGATE_PID" 2>/dev/null || { cat "$dir/tollgate.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "Tollgate did not start listening: $dir/tollgate.log" >&2
  exit 1
}

# stop_tollgates: stops every Tollgate start_tollgate started, by its PID, and waits for it (the EXIT trap).
stop_tollgates() {
  local pid
  for pid in "${TOLLGATE_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
TOLLGATE_PIDS=()

# packaged_java_opts: the JAVA_OPTS the packages ship (packaging/src/pkg/default/tollgate), without the logback
# option, whose /etc/tollgate/logback.xml a distribution folder does not have: one source for what the bench
# scripts call "the packaged options", so that a change to the packages reaches the benchmarks.
packaged_java_opts() {
  local opts word kept=""
  opts="$(sed -n 's/^JAVA_OPTS="\(.*\)"$/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../packaging/src/pkg/default/tollgate")"
  [[ -n "$opts" ]] || { echo "no JAVA_OPTS line in packaging/src/pkg/default/tollgate" >&2; exit 2; }
  for word in $opts; do
    [[ "$word" == -Dlogback.configurationFile=* ]] || kept="${kept:+$kept }$word"
  done
  echo "$kept"
}
