#!/usr/bin/env bash
# Replays converge: the same changes (updates, deletes, duplicates,
# out-of-order versions over three origins, from rdapgen) applied through
# `rdapsync run` in file order, again in full, shuffled into eight files
# read by two tasks writing at once in small batches, reversed and doubled,
# must leave exactly the state rdapgen computed on its own (--expected),
# with both document column types, and again with method auto (LOAD DATA
# for new keys, the statements for the rest).
TEST_NAME=mysql_convergence
. "$(dirname "$0")/lib.sh"

changes 12000 2500 7 changes.jsonl expected.jsonl
create_database
CLEANUPS+=("drop_database")

# pipeline NAME INPUT TABLE TASKS MAX_RECORDS [EXTRA SINK OPTIONS]
pipeline() {
  cat >"$1.yaml" <<YAML
state_dir: $WORK/state-$1
pipelines:
  - name: $1
    tasks: $4
    source: { plugin: file, config: { path: "$2" } }
    sink:
      plugin: mysql
      config: { $(sink_options), table: $3${6:+, $6} }
    batch: { max_records: $5, max_wait: 50ms }
    errors: { tolerance: none }
YAML
  rdapsync_run "$1.yaml" "$1.log"
  [[ "$status" -eq 0 ]] || { tail -n 20 "$1.log" >&2; fail "run $1 exited $status"; }
}

pipeline in-order "$WORK/changes.jsonl" conv_a 1 500
assert_state conv_a expected.jsonl "in file order"
pipeline replay-all "$WORK/changes.jsonl" conv_a 1 500
assert_state conv_a expected.jsonl "after replaying every change"

mkdir shuffled
shuf --random-source=<(yes 42) changes.jsonl >shuffled.jsonl
split -n l/8 -d --additional-suffix=.jsonl shuffled.jsonl shuffled/part-
pipeline shuffled "$WORK/shuffled" conv_b 2 97 "statement_rows: 40"
assert_state conv_b expected.jsonl "shuffled into eight files, two tasks, batches of 97"
[[ -f state-shuffled/shuffled/task-0/checkpoint.json && -f state-shuffled/shuffled/task-1/checkpoint.json ]] ||
  fail "the two tasks did not both write"

mkdir reversed
tac changes.jsonl >reversed/a.jsonl
cp reversed/a.jsonl reversed/b.jsonl
pipeline reversed "$WORK/reversed" conv_b 1 1000
assert_state conv_b expected.jsonl "after the changes reversed, twice, over the shuffled result"

pipeline shuffled-auto "$WORK/shuffled" conv_d 2 97 "statement_rows: 40, method: auto"
assert_state conv_d expected.jsonl "method auto: shuffled into eight files, two tasks, batches of 97"
pipeline reversed-auto "$WORK/reversed" conv_d 1 1000 "method: auto"
assert_state conv_d expected.jsonl "method auto: after the changes reversed, twice"

pipeline longtext "$WORK/shuffled" conv_c 1 300 "doc_type: longtext"
assert_state conv_c expected.jsonl "doc_type longtext, shuffled"
[[ "$(myq "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$SINK_DB' AND TABLE_NAME = 'conv_c' AND COLUMN_NAME = 'doc'")" == longtext ]] ||
  fail "doc_type longtext did not make a LONGTEXT column"

tombstones="$(myq "SELECT count(*) FROM conv_b WHERE deleted" "$SINK_DB")"
[[ "$tombstones" -gt 0 ]] || fail "no tombstones kept: deletes were not exercised"
log "PASS"
