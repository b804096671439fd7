#!/usr/bin/env bash
# Replays converge: the same changes (updates, deletes, duplicates,
# out-of-order versions over three origins, from rdapgen) applied through
# `rdapsync run` in file order, again in full, shuffled into several files
# in small batches, reversed and doubled, must leave exactly the state
# rdapgen computed on its own (--expected), byte for byte once exported
# and canonicalized; with the guard evaluated by the sink (FerretDB's
# default) and, on a smaller set, in the update filter (MongoDB's default,
# which FerretDB runs as a collection scan per document).
TEST_NAME=mongodb_convergence
. "$(dirname "$0")/lib.sh"

RDAPGEN="$(rdapgen_bin)"
"$RDAPGEN" --format envelope --count 4000 --keys 1000 --updates 0.4 --deletes 0.1 --duplicates 0.1 \
  --out-of-order 0.2 --origins 3 --size 1200 --seed 7 --expected expected.jsonl -o changes.jsonl
(( $(wc -l <expected.jsonl) > 300 )) || fail "rdapgen gave too small an expected state"
grep -q '"op":"delete"' changes.jsonl || fail "rdapgen gave no deletes"
grep -q '"vcardArray":\["vcard",\[\[' changes.jsonl || fail "rdapgen gave no arrays inside arrays"

A="conv_a_$RUN_ID"
B="conv_b_$RUN_ID"
C="conv_c_$RUN_ID"
drop_collections "$A" "$B" "$C"

# pipeline NAME INPUT COLLECTION GUARD MAX_RECORDS
pipeline() {
  cat >"$1.yaml" <<YAML
state_dir: state-$1
pipelines:
  - name: $1
    source: { plugin: file, config: { path: $2 } }
    sink:
      plugin: mongodb
      config: { uri: "\${env:RDAPSYNC_MONGO_URI}", database: $DB, collection: $3, version_guard: $4 }
    batch: { max_records: $5, max_wait: 50ms }
    errors: { tolerance: none }
YAML
  rdapsync_run "$1.yaml" "$1.log" || { tail -n 20 "$1.log" >&2; fail "run $1 failed"; }
}

pipeline in-order changes.jsonl "$A" auto 500
assert_state "$A" expected.jsonl "in file order"
pipeline replay-all changes.jsonl "$A" auto 500
assert_state "$A" expected.jsonl "after replaying every change"

mkdir shuffled
shuf --random-source=<(yes 42) changes.jsonl >shuffled.jsonl
split -n l/3 -d --additional-suffix=.jsonl shuffled.jsonl shuffled/part-
pipeline shuffled shuffled "$B" auto 97
assert_state "$B" expected.jsonl "shuffled into three files, batches of 97"

mkdir reversed
tac changes.jsonl >reversed/a.jsonl
cp reversed/a.jsonl reversed/b.jsonl
pipeline reversed reversed "$B" auto 1000
assert_state "$B" expected.jsonl "after the changes reversed, twice, over the shuffled result"

# The guard in the update filter, on a set of its own.
mkdir server
"$RDAPGEN" --format envelope --count 1200 --keys 300 --updates 0.4 --deletes 0.1 --duplicates 0.1 \
  --out-of-order 0.2 --origins 3 --size 1200 --seed 8 --expected server-expected.jsonl -o server-changes.jsonl
shuf --random-source=<(yes 43) server-changes.jsonl >server/a.jsonl
tac server-changes.jsonl >server/b.jsonl
pipeline server-guard server "$C" server 100
assert_state "$C" server-expected.jsonl "guard in the update filter, shuffled then reversed"

# Keys whose last change is a delete are gone, though older upserts of
# them came after the delete in the reversed runs: tombstones at work.
total_keys=$(grep -o '^{"key":"[^"]*"' changes.jsonl | sort -u | wc -l)
live_keys=$(wc -l <expected.jsonl)
(( total_keys > live_keys )) || fail "no key ends deleted: deletes were not exercised"
log "$((total_keys - live_keys)) of $total_keys keys end deleted"

drop_collections "$A" "$B" "$C"
log "PASS"
