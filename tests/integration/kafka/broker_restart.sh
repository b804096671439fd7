#!/usr/bin/env bash
# A broker restart mid-run: Debezium changes -> rdapsync (kafka source ->
# kafka sink) -> a second topic -> rdapsync (kafka source -> postgres). The
# broker is stopped while both pipelines are busy and more changes are being
# produced, then started again. Tasks retry and resume on their own (the
# process never exits), and nothing is lost: the table ends at exactly
# rdapgen's expected state.
TEST_NAME=kafka_broker_restart
. "$(dirname "$0")/lib.sh"

KAFKA_SH="$RDAPSYNC_SOURCE_DIR/scripts/servers/kafka.sh"
bash "$KAFKA_SH" status >/dev/null 2>&1 ||
  fail "the broker at $BROKERS is not one that scripts/servers/kafka.sh manages here (it restarts it): run the tests with the RDAPSYNC_SERVERS_DIR (and port variables) the broker was started with"

"$RDAPGEN" --format envelope --count 20000 --keys 5000 --updates 0.4 --deletes 0.05 --duplicates 0.05 \
  --out-of-order 0.1 --origins 2 --size 1000 --seed 9 --expected expected.jsonl -o changes.jsonl
head -n 10000 changes.jsonl >first.jsonl
tail -n +10001 changes.jsonl >second.jsonl

IN="restart_in_$RUN_ID"
OUT="restart_out_$RUN_ID"
TABLE="restart_$RUN_ID"
EXPECTED="restart_exp_$RUN_ID"
create_topic "$IN" 3
create_topic "$OUT" 3
load_expected "$WORK/expected.jsonl" "$EXPECTED"
"$FEED" --brokers "$BROKERS" --topic "$IN" --format debezium first.jsonl >&2 || fail "feed failed"

cat >pipeline.yaml <<YAML
state_dir: state
pipelines:
  - name: to-kafka
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$IN], group: "in_$RUN_ID", format: debezium } }
    sink: { plugin: kafka, config: { brokers: "$BROKERS", topic: $OUT, delivery_timeout: 5s } }
    batch: { max_records: 200, max_wait: 100ms }
    retry: { backoff_initial: 200ms, backoff_max: 2s }
    errors: { tolerance: none }
  - name: to-postgres
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$OUT], group: "out_$RUN_ID", format: json } }
    sink: { plugin: postgres, config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $TABLE } }
    batch: { max_records: 200, max_wait: 100ms }
    errors: { tolerance: none }
YAML

start_rdapsync pipeline.yaml run.log
pid=$RDAPSYNC_PID
table_has_rows() { [[ "$(pgq "SELECT count(*) FROM $TABLE" 2>/dev/null || echo 0)" -gt 500 ]]; }
wait_for 120 "the first rows in the table" "$pid" run.log table_has_rows
state_matches "$TABLE" "$EXPECTED" && fail "everything was delivered before the restart"

down_ms="$(now_ms)"
log "stopping the broker mid-run"
bash "$KAFKA_SH" stop
# More changes arrive while the broker is down: the producer holds them.
"$FEED" --brokers "$BROKERS" --topic "$IN" --format debezium second.jsonl >feed2.txt 2>feed2.err &
feed_pid=$!
sleep 5
alive "$pid" run.log
log "starting the broker again"
bash "$KAFKA_SH" start
up_ms="$(now_ms)"
wait "$feed_pid" || { cat feed2.err >&2; fail "the second feed failed"; }

wait_for 300 "the table to reach the expected state" "$pid" run.log state_matches "$TABLE" "$EXPECTED"
done_ms="$(now_ms)"
stop_rdapsync "$pid" run.log
retries="$(grep -c 'level=warn.*retry' run.log || true)"
log "broker down for $((up_ms - down_ms)) ms; caught up $((done_ms - up_ms)) ms after it was back; $retries retry warnings"
printf 'kafka_broker_restart: outage_ms=%s catch_up_ms=%s\n' "$((up_ms - down_ms))" "$((done_ms - up_ms))"

drop_tables "$TABLE" "$EXPECTED" "${EXPECTED}_raw"
log "PASS"
