#!/usr/bin/env bash
# The kafka source's gauge consumer_lag (the status page's "Lag"), against
# the real broker of scripts/servers/kafka.sh (only the broker: no
# PostgreSQL, so not lib.sh):
#  - a first run reads the 100 messages of a topic and commits them: the
#    lag falls to 0;
#  - 50 more messages come, the first of them not JSON; a second run of
#    the same group reads them in one batch and fails for good on the bad
#    one (tolerance none), so nothing more is committed: its lag stays at
#    150 - 100 = 50, shown in /status, /metrics and the status page.
set -euo pipefail
TEST_NAME=kafka_consumer_lag
: "${RDAPSYNC_SOURCE_DIR:?run through ctest}" "${RDAPSYNC_BINARY_DIR:?run through ctest}"
: "${RDAPSYNC_BIN:?run through ctest}" "${RDAPSYNC_PLUGIN_PATH:?run through ctest}"
log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; [[ -f "${WORK:-}/run.log" ]] && tail -30 "$WORK/run.log" >&2; exit 1; }
[[ -n "${RDAPSYNC_KAFKA_BROKERS:-}" ]] ||
  fail "RDAPSYNC_KAFKA_BROKERS is not set: start the broker with scripts/servers/kafka.sh start and export what 'scripts/servers/kafka.sh env' prints"
command -v kcat >/dev/null || fail "kcat not found (bash scripts/deps.sh test)"
FEED="$RDAPSYNC_BINARY_DIR/tests/integration/kafka/kafka_feed"
[[ -x "$FEED" ]] || fail "kafka_feed not found (build the kafka_feed target)"
BROKERS="$RDAPSYNC_KAFKA_BROKERS"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
pid=
cleanup() {
  local rc=$?
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup EXIT
cd "$WORK"
RUN_ID="$(printf 'lag_%s_%s' "$$" "$(date +%s)")"
TOPIC="lag_$RUN_ID"
"$FEED" --brokers "$BROKERS" --topic "$TOPIC" --create 1 || fail "cannot create topic $TOPIC"
produce() { # FIRST LAST [BAD]: keyed documents FIRST..LAST, BAD first when given
  { [[ -n "${3:-}" ]] && printf 'bad\tnot JSON\n'
    for i in $(seq "$1" "$2"); do printf 'lag-%s\t{"objectClassName":"domain","handle":"lag-%s"}\n' "$i" "$i"; done
  } | kcat -P -b "$BROKERS" -t "$TOPIC" -K $'\t' || fail "kcat could not produce"
}
produce 1 100

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >run.yaml <<YAML
state_dir: state
http: { listen: "127.0.0.1:$port" }
pipelines:
  - name: lagging
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$TOPIC], group: "g_$RUN_ID", format: json, key: message } }
    sink: { plugin: discard }
    batch: { max_records: 1000, max_wait: 100ms }
    errors: { tolerance: none }
    restart: { max_failures: 1 }
  # Keeps the process (and /status) up once the other pipeline gave up.
  - name: idle
    source: { plugin: file, config: { path: idle, follow: true } }
    sink: { plugin: discard }
YAML
mkdir idle
# (one document: an empty directory trips a UBSan report in the file source)
echo '{"objectClassName":"domain","handle":"idle-1"}' >idle/1.jsonl
start() {
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run run.yaml >>run.log 2>&1 &
  pid=$!
}

task_field() { # PYTHON_EXPR_ON_t
  curl -s "http://127.0.0.1:$port/status" | python3 -c "
import json, sys
t = [p for p in json.load(sys.stdin)['pipelines'] if p['name'] == 'lagging'][0]['tasks'][0]
print($1)"
}
wait_for() { # DESCRIPTION CMD...: events decide; the bound only stops a hang
  local what=$1; shift
  for _ in $(seq 1 1800); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || fail "rdapsync exited while waiting for: $what"
    sleep 0.1
  done
  fail "timed out waiting for: $what"
}
is() { [[ "$(task_field "$1")" == "$2" ]]; }

start
wait_for "all 100 delivered" is "t['records']['delivered']" 100
wait_for "the lag to fall to 0" is "t.get('consumer_lag')" 0
kill -TERM "$pid"
wait "$pid" || fail "the first run did not stop cleanly"

produce 101 149 bad
start
wait_for "the second run to fail for good" is "t['state']" failed
lag="$(task_field "t.get('consumer_lag')")"
[[ "$lag" == 50 ]] || fail "consumer_lag is $lag, expected 50 (150 messages, 100 committed)"
curl -s "http://127.0.0.1:$port/metrics" |
  grep -q '^rdapsync_plugin_consumer_lag{pipeline="lagging",task="0",plugin="kafka"} 50$' ||
  fail "/metrics has no rdapsync_plugin_consumer_lag 50"
curl -s "http://127.0.0.1:$port/" | grep -q '<td class="lag num">50 records</td>' ||
  fail "the status page does not show the lag"
kill -TERM "$pid"
wait "$pid" || true
pid=
log "PASS (lag 0 after the first run, 50 after the failed second one)"
