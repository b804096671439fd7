#!/usr/bin/env bash
# Kafka -> PostgreSQL end to end with Debezium envelopes: snapshot reads,
# creates, updates (including out-of-order and duplicate versions over three
# origins), deletes with their tombstones, with and without the schema
# wrapper, and malformed messages among them. The table must end at exactly
# the state rdapgen computed (--expected), every malformed message must be
# in the dead-letter file with its topic, partition and offset, and a second
# run of the same group must read nothing again (offsets were committed).
TEST_NAME=kafka_debezium_to_postgres
. "$(dirname "$0")/lib.sh"

"$RDAPGEN" --format envelope --count 6000 --keys 1500 --updates 0.4 --deletes 0.1 --duplicates 0.1 \
  --out-of-order 0.2 --origins 3 --size 1200 --seed 11 --expected expected.jsonl -o changes.jsonl
head -n 3000 changes.jsonl >first.jsonl
tail -n +3001 changes.jsonl >second.jsonl
grep -q '"op":"delete"' changes.jsonl || fail "rdapgen gave no deletes"

TOPIC="dbz_$RUN_ID"
TABLE="dbz_$RUN_ID"
EXPECTED="dbz_exp_$RUN_ID"
GROUP="dbz_$RUN_ID"
create_topic "$TOPIC" 3
load_expected "$WORK/expected.jsonl" "$EXPECTED"

# Plain envelopes (the first 500 as snapshot reads), then the same with the
# JsonConverter schema wrapper; a malformed message after every 700 lines.
"$FEED" --brokers "$BROKERS" --topic "$TOPIC" --format debezium --snapshot 500 --malformed-every 700 first.jsonl \
  >feed1.txt || fail "feed failed"
"$FEED" --brokers "$BROKERS" --topic "$TOPIC" --format debezium-schema --malformed-every 700 second.jsonl \
  >feed2.txt || fail "feed failed"
cat feed1.txt feed2.txt >&2
malformed=$(( $(sed -n 's/.* \([0-9]*\) malformed.*/\1/p' feed1.txt) + $(sed -n 's/.* \([0-9]*\) malformed.*/\1/p' feed2.txt) ))
[[ $malformed -ge 6 ]] || fail "the feed produced only $malformed malformed messages"

cat >pipeline.yaml <<YAML
state_dir: state
pipelines:
  - name: dbz
    tasks: 2
    source:
      plugin: kafka
      config: { brokers: "$BROKERS", topics: [$TOPIC], group: $GROUP, format: debezium, session_timeout: 6s }
    sink:
      plugin: postgres
      config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $TABLE }
    batch: { max_records: 500, max_wait: 100ms }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "dlq-{task}.jsonl" } } }
YAML

start_rdapsync pipeline.yaml run1.log
pid=$RDAPSYNC_PID
wait_for 300 "the table to reach the expected state" "$pid" run1.log state_matches "$TABLE" "$EXPECTED"
wait_for 60 "$malformed dead letters" "$pid" run1.log lines_at_least "$malformed" dlq-0.jsonl dlq-1.jsonl
stop_rdapsync "$pid" run1.log
log "state matches after $(grep -c . changes.jsonl) changes; $(pgq "SELECT count(*) FROM $TABLE WHERE deleted") tombstone rows"

[[ "$(file_lines dlq-*.jsonl)" -eq "$malformed" ]] || fail "dead letters: $(file_lines dlq-*.jsonl), malformed: $malformed"
bad_places="$(cat dlq-*.jsonl | grep -vc "topic $TOPIC partition [0-9] offset [0-9]" || true)"
[[ "$bad_places" -eq 0 ]] || fail "$bad_places dead letters do not name topic, partition and offset"
grep -q 'not valid JSON' dlq-*.jsonl || fail "no dead letter for the invalid JSON"
grep -q "unsupported Debezium op 'z'" dlq-*.jsonl || fail "no dead letter for the invalid envelope"
[[ "$(pgq "SELECT count(*) FROM $TABLE WHERE deleted")" -gt 0 ]] || fail "no delete reached the table"

# Same group again: everything was committed, nothing is read twice.
start_rdapsync pipeline.yaml run2.log
pid=$RDAPSYNC_PID
wait_for 60 "the second run's assignments" "$pid" run2.log grep -q "assigned $TOPIC" run2.log
sleep 3
stop_rdapsync "$pid" run2.log
reread="$(sed -n 's/.*msg="read \([0-9]*\) records.*/\1/p' run2.log | awk '{s += $1} END {print s + 0}')"
[[ "$reread" == 0 ]] || fail "the second run read $reread records again"
state_matches "$TABLE" "$EXPECTED" || fail "the second run changed the table"

drop_tables "$TABLE" "$EXPECTED" "${EXPECTED}_raw"
log "PASS"
