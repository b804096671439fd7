#!/usr/bin/env bash
# The server stopped mid-run: the sink answers RETRY while it is down (a
# lost connection), reconnects when it is back, and nothing is lost. Two
# outages: one between batches, one while batches are under way; rdapsync
# keeps running across both and the final state is rdapgen's expected one.
#
# It stops the shared server: CTest runs it alone (RUN_SERIAL), and it needs
# the RDAPSYNC_SERVERS_DIR / RDAPSYNC_REDIS_PORT the server was started with.
TEST_NAME=redis_restart
. "$(dirname "$0")/lib.sh"
trap '"$SERVER" start >/dev/null 2>&1 || true; cleanup_work' EXIT
command -v jq >/dev/null || fail "jq not found (Debian package jq)"

RDAPGEN="$(rdapgen_bin)"
drop_prefix
"$RDAPGEN" --format envelope --count 6000 --keys 1500 --updates 0.3 --deletes 0.05 --duplicates 0.05 \
  --out-of-order 0.1 --origins 2 --size 1000 --seed 9 --expected expected.jsonl -o changes.jsonl
sed -n 1,1500p changes.jsonl >part1
sed -n 1501,3000p changes.jsonl >part2
sed -n 3001,4500p changes.jsonl >part3
sed -n '4501,$p' changes.jsonl >part4

mkdir in
: >in/changes.jsonl
cat >restart.yaml <<YAML
state_dir: state
pipelines:
  - name: restart
    source: { plugin: file, config: { path: in/changes.jsonl, follow: true } }
    sink:
      plugin: redis
      config:
$(sink_config)
        timeout: 2s
    batch: { max_records: 200, max_wait: 50ms }
    retry: { backoff_initial: 100ms, backoff_max: 1s }
    errors: { tolerance: none }
YAML

"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run restart.yaml >run.log 2>&1 &
RDAPSYNC_PID=$!
# A failing check must not leave it running.
trap 'kill -9 "$RDAPSYNC_PID" 2>/dev/null || true; "$SERVER" start >/dev/null 2>&1 || true; cleanup_work' EXIT
alive() { kill -0 "$RDAPSYNC_PID" 2>/dev/null || { tail -n 30 run.log >&2; fail "rdapsync exited early"; }; }
checkpointed() {
  jq -r '[.positions[].offset] | max // 0' state/restart/task-0/checkpoint.json 2>/dev/null || echo 0
}
reached() { alive; (( $(checkpointed) >= $1 )); }
retries() { grep -c 'write: retry in\|flush: retry in' run.log || true; }
retried_since() { alive; (( $(retries) > $1 )); }
size_of() { stat -c %s in/changes.jsonl; }

cat part1 >>in/changes.jsonl
wait_for 300 "part 1 checkpointed" reached "$(size_of)"
log "part 1 landed; stopping the server between batches"

"$SERVER" stop
cat part2 >>in/changes.jsonl
wait_for 60 "the sink to answer RETRY while the server is down" grep -q 'write: retry in\|flush: retry in' run.log
alive
"$SERVER" start
wait_for 300 "part 2 checkpointed after the restart" reached "$(size_of)"
log "part 2 landed after the server came back"

before="$(checkpointed)"
retried="$(retries)"
cat part3 >>in/changes.jsonl
wait_for 60 "part 3 under way" reached $((before + 1))
"$SERVER" stop
log "server stopped at checkpoint $(checkpointed) of $(size_of) bytes"
cat part4 >>in/changes.jsonl
wait_for 60 "the sink to answer RETRY during the second outage" retried_since "$retried"
"$SERVER" start
wait_for 600 "everything checkpointed after the second restart" reached "$(size_of)"

kill -TERM "$RDAPSYNC_PID"
status=0
wait "$RDAPSYNC_PID" || status=$?
[[ "$status" == 0 ]] || { tail -n 30 run.log >&2; fail "rdapsync exited with $status after SIGTERM"; }

reconnects="$(grep -c 'reconnected to redis' run.log || true)"
(( reconnects >= 2 )) || fail "expected a reconnect after each restart, saw $reconnects"
assert_state expected.jsonl "after two server restarts"
drop_prefix
log "PASS"
