#!/usr/bin/env bash
# Scale-out through a consumer group: a 6-partition topic of 100,000 changes,
# two rdapsync processes in one group sharing it; the second is killed with
# SIGKILL mid-run and the first takes its partitions over from the committed
# offsets. At the end the table holds every key at its latest version and
# nothing else. Prints how many records were written twice (allowed:
# at-least-once, absorbed by the version guard) and how long the takeover
# took (from the kill to the survivor's new assignment).
TEST_NAME=kafka_scale_out
. "$(dirname "$0")/lib.sh"

COUNT="${KAFKA_SCALE_OUT_COUNT:-100000}"
"$RDAPGEN" --format envelope --count "$COUNT" --keys $((COUNT / 4)) --updates 0.5 --deletes 0.05 \
  --duplicates 0.02 --out-of-order 0.1 --origins 2 --size 1500 --seed 3 --expected expected.jsonl -o changes.jsonl

TOPIC="scale_$RUN_ID"
TABLE="scale_$RUN_ID"
EXPECTED="scale_exp_$RUN_ID"
GROUP="scale_$RUN_ID"
create_topic "$TOPIC" 6
load_expected "$WORK/expected.jsonl" "$EXPECTED"
create_upsert_table "$TABLE"
count_deliveries "$TABLE"
"$FEED" --brokers "$BROKERS" --topic "$TOPIC" --format debezium changes.jsonl >&2 || fail "feed failed"

for member in a b; do
  cat >"$member.yaml" <<YAML
state_dir: state-$member
pipelines:
  - name: scale
    source:
      plugin: kafka
      config: { brokers: "$BROKERS", topics: [$TOPIC], group: $GROUP, format: debezium, session_timeout: 6s }
    sink: { plugin: postgres, config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $TABLE, create_table: false } }
    batch: { max_records: 500, max_wait: 100ms }
    errors: { tolerance: none }
YAML
done

start_rdapsync a.yaml a.log
pid_a=$RDAPSYNC_PID
wait_for 60 "member a's assignment" "$pid_a" a.log grep -q "assigned $TOPIC" a.log
start_rdapsync b.yaml b.log
pid_b=$RDAPSYNC_PID
wait_for 60 "member b's assignment" "$pid_b" b.log grep -q "assigned $TOPIC" b.log
# Let b deliver and commit a few batches, then kill it without warning.
wait_for 60 "member b's first commits" "$pid_b" b.log test -s state-b/scale/task-0/checkpoint.json
sleep 1
state_matches "$TABLE" "$EXPECTED" && fail "the run was over before the kill: nothing to take over"
kill_ms="$(now_ms)"
kill -KILL "$pid_b"
wait "$pid_b" 2>/dev/null || true
b_partitions="$(grep -c "assigned $TOPIC" b.log || true)"
log "killed member b (it had been assigned $b_partitions partition(s))"

takeover_ms=""
until [[ -n "$takeover_ms" ]]; do
  alive "$pid_a" a.log
  while IFS= read -r line; do
    t="$(log_line_ms "$line")"
    if [[ "$t" -gt "$kill_ms" ]]; then takeover_ms=$((t - kill_ms)); break; fi
  done < <(grep "assigned $TOPIC" a.log)
  [[ -n "$takeover_ms" ]] && break
  (( $(now_ms) - kill_ms < 120000 )) || fail "member a did not take over within 120 s"
  sleep 0.2
done

wait_for 600 "the table to reach the expected state" "$pid_a" a.log state_matches "$TABLE" "$EXPECTED"
stop_rdapsync "$pid_a" a.log

messages="$(kcat -b "$BROKERS" -C -t "$TOPIC" -o beginning -e -q -f 'x\n' | wc -l)"
writes="$(pgq "SELECT count(*) FROM ${TABLE}_deliveries")"
twice="$(pgq "SELECT count(*) - count(DISTINCT (p, o)) FROM ${TABLE}_deliveries")"
log "state matches: $(pgq "SELECT count(*) FROM $EXPECTED") live keys from $messages messages"
log "takeover after kill -9: ${takeover_ms} ms (session timeout 6 s)"
log "records written twice: $twice of $writes row writes"
printf 'kafka_scale_out: takeover_ms=%s written_twice=%s row_writes=%s messages=%s\n' \
  "$takeover_ms" "$twice" "$writes" "$messages"

drop_tables "$TABLE" "${TABLE}_deliveries" "$EXPECTED" "${EXPECTED}_raw"
pgq "DROP FUNCTION IF EXISTS ${TABLE}_log()" >/dev/null 2>&1 || true
log "PASS"
