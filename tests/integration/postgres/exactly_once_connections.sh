#!/usr/bin/env bash
# connections: 2 with exactly_once: true survives kill -9, including a kill
# between the two connections' COMMITs. Each connection commits its own
# transaction; a deferred trigger on the positions table makes the first
# connection's COMMIT take a moment, so that kills land while the first
# connection has committed a batch and the second has not (the test counts
# such kills from the positions table and needs at least one). An append
# table (a duplicate row would show) and an upsert table whose trigger logs
# every applied version (a version applied twice would show) read the same
# changes; after the kills and a final run each holds exactly the input.
# Then the host's checkpoints are deleted: the positions must hold, and
# the same configuration with one connection resumes from them too.
TEST_NAME=postgres_exactly_once_connections
. "$(dirname "$0")/lib.sh"

RDAPGEN="$(rdapgen_bin)"
APPEND="eoc_append_$RUN_ID"
UPSERT="eoc_upsert_$RUN_ID"
HISTORY="eoc_history_$RUN_ID"
EXPECTED="eoc_exp_$RUN_ID"
POSITIONS="eoc_positions_$RUN_ID"

"$RDAPGEN" --format envelope --count 20000 --keys 4000 --updates 0.3 --deletes 0.05 --duplicates 0.05 \
  --out-of-order 0.1 --origins 2 --size 600 --seed 7 --expected expected.jsonl -o changes.jsonl
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
CREATE TABLE $POSITIONS (pipeline text NOT NULL, task integer NOT NULL, stream text NOT NULL,
  "partition" integer NOT NULL, "offset" bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, task, stream, "partition"));
CREATE FUNCTION ${POSITIONS}_slow() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  PERFORM pg_sleep(0.15);
  RETURN NULL;
END \$\$;
CREATE CONSTRAINT TRIGGER ${POSITIONS}_slow AFTER INSERT OR UPDATE ON $POSITIONS DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.pipeline LIKE '%/0/2') EXECUTE FUNCTION ${POSITIONS}_slow();
SQL

write_config() { # FILE CONNECTIONS
  cat >"$1" <<YAML
state_dir: state
pipelines:
  - name: eoc-append
    source: { plugin: file, config: { path: changes.jsonl } }
    sink: { plugin: postgres, config: { dsn: "\${env:SINK_DSN}", table: $APPEND, mode: append, exactly_once: true, positions_table: $POSITIONS, connections: $2 } }
    batch: { max_records: 500, max_wait: 20ms }
    errors: { tolerance: none }
  - name: eoc-upsert
    source: { plugin: file, config: { path: changes.jsonl } }
    sink: { plugin: postgres, config: { dsn: "\${env:SINK_DSN}", table: $UPSERT, exactly_once: true, positions_table: $POSITIONS, connections: $2 } }
    batch: { max_records: 500, max_wait: 20ms }
    errors: { tolerance: none }
YAML
}
write_config two.yaml 2
write_config one.yaml 1

count_of() { pgq "SELECT count(*) FROM $1" 2>/dev/null || echo 0; }
# Pipelines whose two connections' positions differ: a kill between COMMITs.
out_of_step() {
  pgq "SELECT count(*) FROM (SELECT split_part(pipeline, '/', 1) FROM $POSITIONS WHERE pipeline LIKE '%/_/2'
       GROUP BY 1 HAVING min(\"offset\") <> max(\"offset\") OR count(*) = 1) d" 2>/dev/null || echo 0
}

kills=0 between=0
for step in 1 2 3 4 5 6 7; do
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run two.yaml >>run.log 2>&1 &
  pid=$!
  target=$((LINES * step / 8))
  while kill -0 "$pid" 2>/dev/null && (( $(count_of "$APPEND") < target )); do sleep 0.05; done
  if kill -9 "$pid" 2>/dev/null; then
    kills=$((kills + 1))
    wait "$pid" 2>/dev/null || true
    sleep 0.3 # a COMMIT the server was running finishes without its client
    n="$(out_of_step)"
    (( n > 0 )) && between=$((between + 1))
    log "killed rdapsync (SIGKILL) at $(count_of "$APPEND") of $LINES appended rows; $n pipeline(s) with connections out of step"
  fi
  wait "$pid" 2>/dev/null || true
done
(( kills > 0 )) || fail "every run ended before it could be killed: no crash was tested"
(( between > 0 )) || fail "no kill landed between the two connections' COMMITs: the case was not tested"
rdapsync_run two.yaml run.log || { tail -n 20 run.log >&2; fail "the run after the crashes failed"; }

check_exactly_once() {
  local when="$1" rows distinct twice at
  rows="$(count_of "$APPEND")"
  distinct="$(pgq "SELECT count(DISTINCT src_offset) FROM $APPEND")"
  [[ "$rows" == "$LINES" && "$distinct" == "$LINES" ]] \
    || fail "$when: append table holds $rows rows for $distinct offsets, the input has $LINES lines"
  twice="$(pgq "SELECT count(*) FROM (SELECT 1 FROM $HISTORY GROUP BY key, event_time_ms, origin, seq HAVING count(*) > 1) d")"
  [[ "$twice" == 0 ]] || fail "$when: $twice version(s) applied more than once"
  assert_state "$UPSERT" "$EXPECTED" "$when"
  at="$(pgq "SELECT string_agg(DISTINCT \"offset\"::text, ',') FROM $POSITIONS WHERE pipeline LIKE '%/_/2'")"
  [[ "$at" == "$BYTES" ]] || fail "$when: stored positions $at, expected $BYTES (the file's end)"
  log "$when: $rows appended rows, one per line; no version applied twice"
}
load_expected "$WORK/expected.jsonl" "$EXPECTED"
check_exactly_once "after $kills kill -9 ($between between the COMMITs) and a final run"
applied="$(count_of "$HISTORY")"

rm -rf state
rdapsync_run two.yaml rewind.log || { tail -n 20 rewind.log >&2; fail "the run after the rewind failed"; }
grep -q 'exactly-once: resuming' rewind.log || fail "the sink did not hand its positions to the host"
check_exactly_once "after losing the host's checkpoints"
[[ "$(count_of "$HISTORY")" == "$applied" ]] || fail "versions were applied again after the rewind"

rm -rf state
rdapsync_run one.yaml one.log || { tail -n 20 one.log >&2; fail "the run with one connection failed"; }
grep -q "exactly-once: resuming .* after offset $BYTES" one.log \
  || fail "with one connection the sink did not resume from the two connections' positions"
[[ "$(count_of "$APPEND")" == "$LINES" && "$(count_of "$HISTORY")" == "$applied" ]] \
  || fail "going from two connections to one wrote rows again"

pgq "DROP FUNCTION ${HISTORY}_log() CASCADE" >/dev/null
pgq "DROP FUNCTION ${POSITIONS}_slow() CASCADE" >/dev/null
drop_tables "$APPEND" "$UPSERT" "$HISTORY" "$EXPECTED" "${EXPECTED}_raw" "$POSITIONS"
log "PASS"
