#!/usr/bin/env bash
# The kafka sink end to end: Debezium changes -> rdapsync -> a second topic
# (JSON documents, tombstones for deletes, the version in rdapsync.* headers)
# -> rdapsync -> PostgreSQL. The version must survive the hop: the table
# ends at exactly rdapgen's expected state, although the second topic's
# messages carry no envelope.
TEST_NAME=kafka_kafka_to_kafka
. "$(dirname "$0")/lib.sh"

"$RDAPGEN" --format envelope --count 4000 --keys 1000 --updates 0.4 --deletes 0.1 --duplicates 0.05 \
  --out-of-order 0.2 --origins 2 --size 1000 --seed 5 --expected expected.jsonl -o changes.jsonl

IN="k2k_in_$RUN_ID"
OUT="k2k_out_$RUN_ID"
TABLE="k2k_$RUN_ID"
EXPECTED="k2k_exp_$RUN_ID"
create_topic "$IN" 3
create_topic "$OUT" 4
load_expected "$WORK/expected.jsonl" "$EXPECTED"
"$FEED" --brokers "$BROKERS" --topic "$IN" --format debezium changes.jsonl >&2 || fail "feed failed"

cat >pipeline.yaml <<YAML
state_dir: state
pipelines:
  - name: to-kafka
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$IN], group: "in_$RUN_ID", format: debezium } }
    sink: { plugin: kafka, config: { brokers: "$BROKERS", topic: $OUT } }
    batch: { max_records: 500, max_wait: 100ms }
    errors: { tolerance: none }
  - name: to-postgres
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$OUT], group: "out_$RUN_ID", format: json } }
    sink: { plugin: postgres, config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $TABLE } }
    batch: { max_records: 500, max_wait: 100ms }
    errors: { tolerance: none }
YAML

start_rdapsync pipeline.yaml run.log
pid=$RDAPSYNC_PID
wait_for 300 "the table to reach the expected state" "$pid" run.log state_matches "$TABLE" "$EXPECTED"
stop_rdapsync "$pid" run.log

# Every change (and every tombstone after a delete) crossed the second topic.
produced="$(kcat -b "$BROKERS" -C -t "$OUT" -o beginning -e -q -f 'x\n' | wc -l)"
changes="$(grep -c . changes.jsonl)"
deletes="$(grep -c '"op":"delete"' changes.jsonl)"
[[ "$produced" -ge $((changes + deletes)) ]] || fail "$OUT holds $produced messages, expected at least $((changes + deletes))"
tombstones="$(kcat -b "$BROKERS" -C -t "$OUT" -o beginning -e -q -Z -f '%S\n' | grep -c '^-1$' || true)"
[[ "$tombstones" -ge "$deletes" ]] || fail "$OUT holds $tombstones tombstones for $deletes deletes"
log "state matches; $OUT holds $produced messages ($tombstones tombstones)"

drop_tables "$TABLE" "$EXPECTED" "${EXPECTED}_raw"
log "PASS"
