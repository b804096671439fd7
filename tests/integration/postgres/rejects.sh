#!/usr/bin/env bash
# Records the server refuses go to the dead-letter sink with the server's
# message, and the rest of their batch still lands: a CHECK constraint
# violation (23514), a key too long for the primary key's index (54000),
# and a key whose newest version in a batch is refused while an older one
# in the same batch is fine (the older one is stored, so the result does
# not depend on how records were batched).
TEST_NAME=postgres_rejects
. "$(dirname "$0")/lib.sh"

RDAPGEN="$(rdapgen_bin)"
TABLE="rej_$RUN_ID"
EXPECTED="rej_exp_$RUN_ID"
create_upsert_table "$TABLE"
pgq "ALTER TABLE $TABLE ADD CONSTRAINT no_forbidden_port43 CHECK (doc->>'port43' IS DISTINCT FROM 'forbidden.example')"

"$RDAPGEN" --format envelope --count 3000 --keys 1500 --updates 0.3 --origins 2 --size 900 --seed 3 \
  --expected expected.jsonl -o generated.jsonl
LONG_KEY="long-$(for i in $(seq 1 1000); do printf '%08x' $(( (i * 2654435761) % 4294967296 )); done)"
{
  # In the first batch, next to each other: the newer version is refused.
  echo '{"key":"fallback-key","op":"upsert","ts_ms":1,"origin":"a","seq":1,"value":{"handle":"fallback-key","port43":"whois.example"}}'
  echo '{"key":"fallback-key","op":"upsert","ts_ms":2,"origin":"a","seq":1,"value":{"handle":"fallback-key","port43":"forbidden.example"}}'
  sed -n 1,1000p generated.jsonl
  echo '{"key":"check-violation","op":"upsert","ts_ms":5,"origin":"a","seq":1,"value":{"handle":"check-violation","port43":"forbidden.example"}}'
  sed -n 1001,2000p generated.jsonl
  printf '{"key":"%s","op":"upsert","ts_ms":5,"origin":"a","seq":1,"value":{"handle":"long"}}\n' "$LONG_KEY"
  sed -n 2001,\$p generated.jsonl
} >changes.jsonl

cat >rejects.yaml <<YAML
state_dir: state
pipelines:
  - name: rejects
    source: { plugin: file, config: { path: changes.jsonl } }
    sink: { plugin: postgres, config: { dsn: "\${env:SINK_DSN}", table: $TABLE, create_table: false } }
    batch: { max_records: 500 }
    errors:
      tolerance: all
      dead_letter: { plugin: file, config: { path: dead-letter.jsonl } }
YAML
rdapsync_run rejects.yaml run.log || { tail -n 20 run.log >&2; fail "the run failed"; }

[[ -f dead-letter.jsonl ]] || fail "no dead-letter file"
count="$(wc -l <dead-letter.jsonl)"
[[ "$count" == 3 ]] || { cut -c1-300 dead-letter.jsonl >&2; fail "expected 3 dead letters, got $count"; }

# reason_of KEY: the dead letter's reason for KEY.
reason_of() { jq -r --arg k "$1" 'select(.key == $k) | .error' dead-letter.jsonl; }
reason="$(reason_of check-violation)"
[[ "$reason" == *23514* && "$reason" == *'violates check constraint "no_forbidden_port43"'* ]] \
  || fail "check-violation: reason lacks the server's message: $reason"
[[ "$reason" == *"$TABLE"* && "$reason" == *'key "check-violation"'* ]] || fail "reason names no table/key: $reason"
reason="$(reason_of "$LONG_KEY")"
[[ "$reason" == *54000* && "$reason" == *"index row size"* ]] || fail "long key: unexpected reason: $reason"
reason="$(jq -r 'select(.key == "fallback-key") | "\(.version.ts_ms) \(.error)"' dead-letter.jsonl)"
[[ "$reason" == "2 "*23514* ]] || fail "fallback-key: the newer version should be the dead letter: $reason"

# Everything else landed, and fallback-key holds its older, valid version.
load_expected "$WORK/expected.jsonl" "$EXPECTED"
pgq "INSERT INTO $EXPECTED VALUES ('fallback-key', 1, 'a', 1, '{\"handle\":\"fallback-key\",\"port43\":\"whois.example\"}')"
assert_state "$TABLE" "$EXPECTED" "after a run with three refused records"

drop_tables "$TABLE" "$EXPECTED" "${EXPECTED}_raw"
log "PASS"
