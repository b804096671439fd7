#!/usr/bin/env bash
# flush WAITs for wait_replicas replicas: the test server has none, so
# every flush answers RETRY with a message saying how many acknowledged,
# and the task retries (it does not fail and does not checkpoint past the
# batch). The write itself is on the server: the guard makes the rewrite
# of the same batch harmless.
TEST_NAME=redis_wait
. "$(dirname "$0")/lib.sh"
drop_prefix

printf '{"key":"k","op":"upsert","ts_ms":1,"origin":"o","seq":1,"value":{"n":1}}\n' >in.jsonl
cat >wait.yaml <<YAML
state_dir: state
pipelines:
  - name: wait
    source: { plugin: file, config: { path: in.jsonl } }
    sink:
      plugin: redis
      config:
$(sink_config)
        wait_replicas: 1
        wait_timeout_ms: 100ms
    retry: { backoff_initial: 100ms, backoff_max: 200ms }
    errors: { tolerance: none }
YAML
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run wait.yaml >run.log 2>&1 &
pid=$!
# A failing check must not leave it running.
trap 'kill -9 "$pid" 2>/dev/null || true; cleanup_work' EXIT
retried() {
  kill -0 "$pid" 2>/dev/null || { tail -n 20 run.log >&2; fail "rdapsync exited: a missing replica must be retried"; }
  grep -q 'retry in .*WAIT: 0 of 1 replicas acknowledged the writes within 100 ms' run.log
}
wait_for 60 "a flush answering RETRY for the missing replica" retried
# Later attempts are logged at debug level; the task is still retrying.
kill -0 "$pid" 2>/dev/null || fail "rdapsync exited after the RETRY"
kill -TERM "$pid"
wait "$pid" || true
offset="$(jq -r '[.positions[].offset] | max // 0' state/wait/task-0/checkpoint.json 2>/dev/null || echo 0)"
[[ "$offset" == 0 ]] || fail "the checkpoint moved past a batch no replica acknowledged ($offset)"
[[ "$("$REDIS_EXPORT" "$PREFIX")" == *'"key":"k"'* ]] || fail "the write itself did not reach the primary"
drop_prefix
log "PASS"
