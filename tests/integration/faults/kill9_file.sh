#!/usr/bin/env bash
# kill -9 at 20 random moments of a 100,000-record file -> file run,
# restarting each time: the output holds every input record exactly once
# (by source position, no torn line), and folding it with the version guard
# gives the generator's expected final state.
TEST_NAME=faults_kill9_file
. "$(dirname "$0")/lib.sh"

RECORDS="${KILL9_RECORDS:-100000}"
KILLS="${KILL9_POINTS:-20}"
"$(rdapgen_bin)" --format envelope --count "$RECORDS" --keys $((RECORDS * 3 / 10)) --updates 0.3 --deletes 0.05 \
  --duplicates 0.05 --out-of-order 0.1 --origins 2 --size 700 --seed 11 --expected expected.jsonl -o changes.jsonl

cat >run.yaml <<YAML
state_dir: state
pipelines:
  - name: kill9-file
    source: { plugin: file, config: { path: changes.jsonl } }
    sink: { plugin: file, config: { path: out/changes.jsonl } }
    batch: { max_records: 300, max_wait: 50ms }
YAML

FAIL_LOGS="$WORK/run.log"
. "$FAULTS_DIR/kill9_loop.sh"
reset_output() { rm -rf out state; }
kill9_loop run.yaml "$KILLS"

python3 "$FAULTS_DIR/check.py" once changes.jsonl out/changes.jsonl || fail "not exactly once after $KILLS kills"
python3 "$FAULTS_DIR/check.py" state out/changes.jsonl expected.jsonl || fail "final state differs after $KILLS kills"
log "PASS ($KILLS kills, $RESTARTS_FROM_SCRATCH restart(s) from scratch)"
