#!/usr/bin/env bash
# flush WAITs for wait_replicas replicas. Without a replica every flush
# answers RETRY with a message saying how many acknowledged, and the task
# retries (it does not fail and does not checkpoint past the batch; the
# write itself is on the primary, and the guard makes the rewrite of the
# same batch harmless). With a replica (redis.sh start-replica) the same
# pipeline runs to its end and the replica holds the documents.
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
log "no replica: RETRY with the reason, no checkpoint"

trap '"$SERVER" stop-replica >/dev/null 2>&1 || true; cleanup_work' EXIT
"$SERVER" start-replica
# The replica's link is up, but the primary puts a replica that loaded its
# data without a disk online only at that replica's first acknowledgement
# (about a second later): until then WAIT counts 0. Wait for that first.
replica_acks() { [[ "$(rcli WAIT 1 1000)" == 1 ]]; }
wait_for 30 "the primary to count the replica in WAIT" replica_acks
rm -rf state
printf '{"key":"k2","op":"upsert","ts_ms":2,"origin":"o","seq":1,"value":{"n":2}}\n' >>in.jsonl
# 100 ms is the refusal case's timeout; a replica on a loaded machine may
# take longer to acknowledge, which is a retry, not a failure: give it 10 s.
sed 's/wait_timeout_ms: 100ms/wait_timeout_ms: 10s/' wait.yaml >replica.yaml
rdapsync_run replica.yaml replica.log || { tail -n 20 replica.log >&2; fail "the run with a replica failed"; }
grep -q 'WAIT: 0 of 1' replica.log && fail "WAIT was not acknowledged with a replica attached"
replica_port="${RDAPSYNC_REDIS_REPLICA_PORT:-$((RDAPSYNC_REDIS_PORT + 1))}"
[[ "$(RDAPSYNC_REDIS_PORT=$replica_port "$REDIS_EXPORT" "$PREFIX" | "$CANON" /dev/stdin)" == \
   '{"key":"k","ts_ms":1,"origin":"o","seq":1,"value":{"n":1}}'$'\n''{"key":"k2","ts_ms":2,"origin":"o","seq":1,"value":{"n":2}}' ]] ||
  fail "the replica does not hold the documents after WAIT answered"
"$SERVER" stop-replica
drop_prefix
log "PASS"
