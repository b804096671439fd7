#!/usr/bin/env bash
# rdapsync dlq replay: records a pipeline could not decrypt (their key was
# missing from its keyring) are dead-lettered, encrypted with the dead
# letter's own keyring (nothing in clear); after the fix (the key added)
# `dlq replay` sends them back through the pipeline into PostgreSQL with
# their original keys and versions, and the version-guarded table ends at
# rdapgen's expected state. A second replay is killed with -9 halfway and
# run again: the table converges, nothing lost, nothing twice (one row per
# key at the expected version).
TEST_NAME=crypt_dlq_replay
. "$(dirname "$0")/../kafka/lib.sh"

"$RDAPGEN" --format envelope --count 4000 --keys 1000 --updates 0.4 --deletes 0.1 --duplicates 0.05 \
  --out-of-order 0.2 --origins 2 --size 2500 --seed 41 --expected expected.jsonl -o changes.jsonl
head -n 500 changes.jsonl >part1.jsonl
tail -n +501 changes.jsonl >part2.jsonl
k1="k1:$(openssl rand -base64 32)"
k2="k2:$(openssl rand -base64 32)"
echo "$k1" >ring-old
printf '%s\n%s\n' "$k1" "$k2" >ring-new
echo "d1:$(openssl rand -base64 32)" >dlq.keyring

# The input: part 1 sealed with k1, part 2 with k2 (file sink envelopes keep keys and versions).
cat >seal.yaml <<YAML
state_dir: state-seal
pipelines:
  - name: seal1
    source: { plugin: file, config: { path: part1.jsonl } }
    transforms: [ { plugin: encrypt, config: { keyring: "\${file:ring-old}" } } ]
    sink: { plugin: file, config: { path: sealed1.jsonl, format: envelope } }
  - name: seal2
    source: { plugin: file, config: { path: part2.jsonl } }
    transforms: [ { plugin: encrypt, config: { keyring: "\${file:ring-new}" } } ]
    sink: { plugin: file, config: { path: sealed2.jsonl, format: envelope } }
YAML
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run seal.yaml >seal.log 2>&1 || { tail seal.log >&2; fail "sealing failed"; }
cat sealed1.jsonl sealed2.jsonl >sealed.jsonl

EXPECTED="dlqr_exp_$RUN_ID"
load_expected "$WORK/expected.jsonl" "$EXPECTED"

# pipeline_yaml TABLE MAX_RECORDS: the pipeline, decrypting with `ring` (a
# copy of ring-old, then ring-new); small batches make the killed replay
# slow enough to be caught halfway.
pipeline_yaml() {
  cat <<YAML
state_dir: state-$1
pipelines:
  - name: ingest
    source: { plugin: file, config: { path: sealed.jsonl } }
    transforms: [ { plugin: decrypt, config: { keyring: "\${file:ring}" } } ]
    sink: { plugin: postgres, config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $1 } }
    batch: { max_records: $2, max_wait: 50ms }
    errors:
      tolerance: all
      dead_letter: { plugin: file, config: { path: dlq-$1.jsonl, format: envelope }, keyring: "\${file:dlq.keyring}" }
YAML
}
row_count() { pgq "SELECT count(*) FROM $1"; }

for mode in full killed; do
  TABLE="dlqr_${mode}_$RUN_ID"
  cp ring-old ring
  pipeline_yaml "$TABLE" "$([[ $mode == full ]] && echo 100 || echo 2)" >"$mode.yaml"
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run "$mode.yaml" >"$mode-run.log" 2>&1 ||
    { tail "$mode-run.log" >&2; fail "$mode: the first run failed"; }
  dead="$(file_lines "dlq-$TABLE.jsonl")"
  sealed2="$(grep -c '"op":"upsert"' sealed2.jsonl)"
  [[ "$dead" -eq "$sealed2" ]] || fail "$mode: $dead dead letters, expected the $sealed2 upserts sealed with k2"
  # Dead letters: reason kept, document sealed with d1, nothing in clear.
  grep -q 'unknown key id \\"k2\\"' "dlq-$TABLE.jsonl" || fail "$mode: no dead letter says unknown key id k2"
  if grep -q -e vcardArray -e objectClassName "dlq-$TABLE.jsonl"; then fail "$mode: clear text in the dead letters"; fi
  [[ "$(grep -c '"value":{"enc":"aes-256-gcm","kid":"d1"' "dlq-$TABLE.jsonl")" -eq "$dead" ]] ||
    fail "$mode: not every dead letter is sealed with the dead-letter key d1"
  state_matches "$TABLE" "$EXPECTED" && fail "$mode: the table matches before the replay (the test proves nothing)"

  # The fix, then the replay of the moved dead-letter file.
  cp ring-new ring
  mv "dlq-$TABLE.jsonl" "replay-$TABLE.jsonl"
  if [[ "$mode" == full ]]; then
    "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" dlq replay "replay-$TABLE.jsonl" "$mode.yaml" \
      >"$mode-replay.log" 2>&1 || { tail "$mode-replay.log" >&2; fail "$mode: the replay failed"; }
  else
    before="$(row_count "$TABLE")"
    "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" dlq replay "replay-$TABLE.jsonl" "$mode.yaml" \
      >"$mode-replay.log" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    until [[ "$(row_count "$TABLE")" -gt "$before" ]]; do
      kill -0 "$pid" 2>/dev/null || fail "the replay ended before it could be killed (see $mode-replay.log)"
      sleep 0.05
    done
    kill -KILL "$pid" || fail "the replay ended before it could be killed"
    wait "$pid" 2>/dev/null || true
    log "killed the replay at $(row_count "$TABLE") rows"
    "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" dlq replay "replay-$TABLE.jsonl" "$mode.yaml" \
      >"$mode-replay2.log" 2>&1 || { tail "$mode-replay2.log" >&2; fail "$mode: the second replay failed"; }
  fi
  [[ ! -s "dlq-$TABLE.jsonl" ]] || fail "$mode: the replay dead-lettered records again: $(head -c 300 "dlq-$TABLE.jsonl")"
  state_matches "$TABLE" "$EXPECTED" || fail "$mode: $(state_differences "$TABLE" "$EXPECTED") keys differ from the expected state after the replay"
  log "$mode: $dead dead letters replayed; the table is at the expected state"
  drop_tables "$TABLE"
done

drop_tables "$EXPECTED" "${EXPECTED}_raw"
log "PASS"
