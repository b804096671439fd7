#!/usr/bin/env bash
# A kafka task that fails while librdkafka still holds fetched messages must
# fail cleanly: the consumer close served those messages as callbacks and
# librdkafka aborted the whole process (rd_kafka_q_serve: assert: res !=
# RD_KAFKA_OP_RES_PASS). A bad record under `tolerance: none`, small
# batches and a backlog behind it make that state; the task must be
# restarted by the supervisor until its circuit opens, then rdapsync exits 1
# with the record's place in its log, and it never aborts.
TEST_NAME=kafka_fail_with_backlog
. "$(dirname "$0")/lib.sh"
command -v kcat >/dev/null || fail "kcat not found (Debian package kcat)"

TOPIC="backlog_$RUN_ID"
create_topic "$TOPIC" 1
{
  for i in $(seq 1 4); do printf '{"handle":"D%d-EX","objectClassName":"domain","ldhName":"d%d.example"}\n' "$i" "$i"; done
  printf '{"handle": not json\n'
  for i in $(seq 6 400); do printf '{"handle":"D%d-EX","objectClassName":"domain","ldhName":"d%d.example"}\n' "$i" "$i"; done
} >input.jsonl
kcat -b "$BROKERS" -P -t "$TOPIC" -p 0 -l input.jsonl || fail "kcat could not produce"

cat >pipeline.yaml <<YAML
state_dir: state
pipelines:
  - name: backlog
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$TOPIC], group: "g_$RUN_ID", format: json, key: value, key_path: handle } }
    sink: { plugin: file, config: { path: out.jsonl } }
    batch: { max_records: 2, max_wait: 50ms }
    errors: { tolerance: none }
    restart: { max_failures: 3, window: 5m, backoff_initial: 100ms, backoff_max: 200ms }
YAML

rc=0
timeout -s KILL 240 "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run pipeline.yaml >run.log 2>&1 || rc=$?
if grep -q 'assert' run.log || [[ $rc -ge 128 ]]; then
  tail -n 30 run.log >&2
  fail "rdapsync died (exit $rc) instead of failing the task"
fi
[[ $rc -eq 1 ]] || { tail -n 30 run.log >&2; fail "exit status $rc, expected 1 (the task's restart limit was reached)"; }
grep -q "$TOPIC" run.log || fail "the log does not name the topic of the bad record"
grep -qE "$TOPIC.*(\\[0\\]|/0|partition 0).*4|offset 4" run.log || { grep -i error run.log | head >&2; fail "the log does not name the bad record's partition and offset"; }
[[ "$(grep -c . out.jsonl)" -eq 4 ]] || fail "out.jsonl holds $(grep -c . out.jsonl) documents, expected the 4 before the bad record"
log "PASS: failed cleanly (exit 1) $(grep -c 'restart' run.log) restart lines"
