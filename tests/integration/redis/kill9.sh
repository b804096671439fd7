#!/usr/bin/env bash
# kill -9 of rdapsync mid-run, three times, then a run to the end: the
# replay from the last checkpoint writes some changes twice, and the guard
# makes that harmless; the final state is rdapgen's expected one.
TEST_NAME=redis_kill9
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || fail "jq not found (Debian package jq)"

RDAPGEN="$(rdapgen_bin)"
drop_prefix
"$RDAPGEN" --format envelope --count 20000 --keys 4000 --updates 0.3 --deletes 0.08 --duplicates 0.05 \
  --out-of-order 0.15 --origins 3 --size 1000 --seed 11 --expected expected.jsonl -o changes.jsonl
size="$(stat -c %s changes.jsonl)"
cat >kill9.yaml <<YAML
state_dir: state
pipelines:
  - name: kill9
    source: { plugin: file, config: { path: changes.jsonl } }
    sink:
      plugin: redis
      config:
$(sink_config)
    batch: { max_records: 100, max_wait: 20ms }
    errors: { tolerance: none }
YAML

checkpointed() {
  jq -r '[.positions[].offset] | max // 0' state/kill9/task-0/checkpoint.json 2>/dev/null || echo 0
}
last=0
for round in 1 2 3; do
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run kill9.yaml >>"run-$round.log" 2>&1 &
  pid=$!
  # A failing check must not leave it running.
  trap 'kill -9 "$pid" 2>/dev/null || true; cleanup_work' EXIT
  # Kill once the checkpoint moved past where this round started (and
  # before the end), so each round is cut in the middle of its work.
  target=$(( last + (size - last) / 4 ))
  progressed() { (( $(checkpointed) > target )) || ! kill -0 "$pid" 2>/dev/null; }
  wait_for 300 "round $round to make progress" progressed
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  last="$(checkpointed)"
  # A fast machine may finish a later round before its kill lands: the
  # rounds killed so far still prove the replay; the first must be killed.
  if (( last >= size )); then
    (( round > 1 )) || fail "round 1 ran to the end before the kill: make the input larger"
    log "round $round ran to the end before its kill; $((round - 1)) kill(s) made"
    break
  fi
  log "round $round: killed at checkpoint $last of $size bytes"
done
rdapsync_run kill9.yaml final.log || { tail -n 20 final.log >&2; fail "the final run failed"; }
assert_state expected.jsonl "after three kill -9 and a replay"
drop_prefix
log "PASS"
