#!/usr/bin/env bash
# exactly_once: true survives kill -9. Two pipelines read the same changes:
# one appends every change (a duplicate row would show), one upserts into a
# table whose trigger logs every applied version (a version applied twice
# would show). rdapsync is killed with SIGKILL three times mid-run, then
# runs to the end. Then the host's own checkpoints are deleted, as if it
# had crashed after the sink's COMMIT and before its checkpoint file: the
# positions the sink stored with the data must be where the source resumes.
# A control pipeline without exactly_once shows the same rewind duplicating
# rows, so the checks can tell.
TEST_NAME=postgres_exactly_once
. "$(dirname "$0")/lib.sh"

RDAPGEN="$(rdapgen_bin)"
APPEND="eo_append_$RUN_ID"
UPSERT="eo_upsert_$RUN_ID"
HISTORY="eo_history_$RUN_ID"
CONTROL="eo_control_$RUN_ID"
EXPECTED="eo_exp_$RUN_ID"
POSITIONS="eo_positions_$RUN_ID"

"$RDAPGEN" --format envelope --count 30000 --keys 6000 --updates 0.3 --deletes 0.05 --duplicates 0.05 \
  --out-of-order 0.1 --origins 2 --size 800 --seed 5 --expected expected.jsonl -o changes.jsonl
LINES="$(wc -l <changes.jsonl)"
BYTES="$(stat -c %s changes.jsonl)"

create_upsert_table "$UPSERT"
pgs <<SQL
CREATE TABLE $HISTORY (key text, event_time_ms bigint, origin text, seq bigint, deleted boolean);
CREATE FUNCTION ${HISTORY}_log() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO $HISTORY VALUES (NEW.key, NEW.event_time_ms, NEW.origin, NEW.seq, NEW.deleted);
  RETURN NULL;
END \$\$;
CREATE TRIGGER ${HISTORY}_applied AFTER INSERT OR UPDATE ON $UPSERT FOR EACH ROW EXECUTE FUNCTION ${HISTORY}_log();
SQL

# config FILE PIPELINE... : one file with the named pipelines.
write_config() {
  local file="$1"; shift
  printf 'state_dir: state\npipelines:\n' >"$file"
  local p
  for p in "$@"; do
    case "$p" in
      append) printf '  - name: eo-append\n    sink: { plugin: postgres, config: { dsn: "${env:SINK_DSN}", table: %s, mode: append, exactly_once: true, positions_table: %s } }\n' "$APPEND" "$POSITIONS" ;;
      upsert) printf '  - name: eo-upsert\n    sink: { plugin: postgres, config: { dsn: "${env:SINK_DSN}", table: %s, exactly_once: true, positions_table: %s } }\n' "$UPSERT" "$POSITIONS" ;;
      control) printf '  - name: eo-control\n    sink: { plugin: postgres, config: { dsn: "${env:SINK_DSN}", table: %s, mode: append } }\n' "$CONTROL" ;;
    esac >>"$file"
    printf '    source: { plugin: file, config: { path: changes.jsonl } }\n    batch: { max_records: 100, max_wait: 20ms }\n    errors: { tolerance: none }\n' >>"$file"
  done
}
write_config eo.yaml append upsert
write_config control.yaml control

count_of() { pgq "SELECT count(*) FROM $1" 2>/dev/null || echo 0; }

# Three crashes at a quarter, a half and three quarters of the appended rows.
kills=0
for quarter in 1 2 3; do
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run eo.yaml >>run.log 2>&1 &
  pid=$!
  target=$((LINES * quarter / 4))
  while kill -0 "$pid" 2>/dev/null && (( $(count_of "$APPEND") < target )); do sleep 0.05; done
  if kill -9 "$pid" 2>/dev/null; then
    kills=$((kills + 1))
    log "killed rdapsync (SIGKILL) at $(count_of "$APPEND") of $LINES appended rows"
  fi
  wait "$pid" 2>/dev/null || true
done
(( kills > 0 )) || fail "every run ended before it could be killed: no crash was tested"
rdapsync_run eo.yaml run.log || { tail -n 20 run.log >&2; fail "the run after the crashes failed"; }

check_exactly_once() {
  local when="$1"
  local rows distinct twice
  rows="$(count_of "$APPEND")"
  distinct="$(pgq "SELECT count(DISTINCT src_offset) FROM $APPEND")"
  [[ "$rows" == "$LINES" && "$distinct" == "$LINES" ]] \
    || fail "$when: append table holds $rows rows for $distinct offsets, the input has $LINES lines"
  twice="$(pgq "SELECT count(*) FROM (SELECT 1 FROM $HISTORY GROUP BY key, event_time_ms, origin, seq HAVING count(*) > 1) d")"
  [[ "$twice" == 0 ]] || fail "$when: $twice version(s) applied more than once"
  assert_state "$UPSERT" "$EXPECTED" "$when"
  local at
  at="$(pgq "SELECT string_agg(DISTINCT \"offset\"::text, ',') FROM $POSITIONS")"
  [[ "$at" == "$BYTES" ]] || fail "$when: stored positions $at, expected $BYTES (the file's end)"
  log "$when: $rows appended rows, one per line; no version applied twice"
}
load_expected "$WORK/expected.jsonl" "$EXPECTED"
check_exactly_once "after $kills kill -9 and a final run"
applied="$(count_of "$HISTORY")"

# The host forgets its checkpoints: the sink's positions must hold.
rm -rf state
rdapsync_run eo.yaml rewind.log || { tail -n 20 rewind.log >&2; fail "the run after the rewind failed"; }
grep -q 'exactly-once: resuming' rewind.log || fail "the sink did not hand its positions to the host"
check_exactly_once "after losing the host's checkpoints"
[[ "$(count_of "$HISTORY")" == "$applied" ]] || fail "versions were applied again after the rewind"

# Control: the same rewind without exactly_once appends everything again.
rm -rf state
rdapsync_run control.yaml control.log || fail "control run failed"
rm -rf state
rdapsync_run control.yaml control.log || fail "control run failed"
[[ "$(count_of "$CONTROL")" == $((2 * LINES)) ]] \
  || fail "control: expected $((2 * LINES)) rows after a rewind without exactly_once, got $(count_of "$CONTROL")"

pgq "DROP FUNCTION ${HISTORY}_log() CASCADE" >/dev/null
drop_tables "$APPEND" "$UPSERT" "$HISTORY" "$CONTROL" "$EXPECTED" "${EXPECTED}_raw" "$POSITIONS"
log "PASS"
