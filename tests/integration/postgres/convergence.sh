#!/usr/bin/env bash
# Replays converge: the same changes (updates, deletes, duplicates,
# out-of-order versions over three origins, from rdapgen) applied through
# `rdapsync run` in file order, again in full, shuffled into several files
# in small batches, reversed and doubled, must leave exactly the state
# rdapgen computed on its own (--expected), with both write methods.
TEST_NAME=postgres_convergence
. "$(dirname "$0")/lib.sh"

RDAPGEN="$(rdapgen_bin)"
"$RDAPGEN" --format envelope --count 12000 --keys 2500 --updates 0.4 --deletes 0.1 --duplicates 0.1 \
  --out-of-order 0.2 --origins 3 --size 1200 --seed 7 --expected expected.jsonl -o changes.jsonl
EXPECTED="exp_$RUN_ID"
load_expected "$WORK/expected.jsonl" "$EXPECTED"
[[ "$(pgq "SELECT count(*) FROM $EXPECTED")" -gt 1000 ]] || fail "rdapgen gave too small an expected state"
grep -q '"op":"delete"' changes.jsonl || fail "rdapgen gave no deletes"

# pipeline NAME INPUT TABLE METHOD MAX_RECORDS
pipeline() {
  cat >"$1.yaml" <<YAML
state_dir: state-$1
pipelines:
  - name: $1
    source: { plugin: file, config: { path: $2 } }
    sink:
      plugin: postgres
      config: { dsn: "\${env:SINK_DSN}", table: $3, method: $4 }
    batch: { max_records: $5, max_wait: 50ms }
    errors: { tolerance: none }
YAML
  rdapsync_run "$1.yaml" "$1.log" || { tail -n 20 "$1.log" >&2; fail "run $1 failed"; }
}

A="conv_a_$RUN_ID"
B="conv_b_$RUN_ID"
C="conv_c_$RUN_ID"

pipeline in-order changes.jsonl "$A" pipeline 500
assert_state "$A" "$EXPECTED" "in file order"
pipeline replay-all changes.jsonl "$A" pipeline 500
assert_state "$A" "$EXPECTED" "after replaying every change"

mkdir shuffled
shuf --random-source=<(yes 42) changes.jsonl >shuffled.jsonl
split -n l/3 -d --additional-suffix=.jsonl shuffled.jsonl shuffled/part-
pipeline shuffled shuffled "$B" pipeline 97
assert_state "$B" "$EXPECTED" "shuffled into three files, batches of 97"

mkdir reversed
tac changes.jsonl >reversed/a.jsonl
cp reversed/a.jsonl reversed/b.jsonl
pipeline reversed reversed "$B" pipeline 1000
assert_state "$B" "$EXPECTED" "after the changes reversed, twice, over the shuffled result"

pipeline copy-method shuffled "$C" copy 300
assert_state "$C" "$EXPECTED" "write method copy, shuffled"
pipeline copy-reversed reversed "$C" copy 1000
assert_state "$C" "$EXPECTED" "write method copy, reversed twice"

# The guard kept older versions out (rows_stale) rather than never seeing them.
stale="$(pgq "SELECT count(*) FROM $B WHERE deleted")"
[[ "$stale" -gt 0 ]] || fail "no tombstones kept: deletes were not exercised"

drop_tables "$A" "$B" "$C" "$EXPECTED" "${EXPECTED}_raw"
log "PASS"
