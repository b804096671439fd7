#!/usr/bin/env bash
# file -> sqlite with exactly_once, killed with SIGKILL at random moments
# and restarted until a run completes. Two pipelines read the same changes:
# one into an append table (one row per change: after the kills every change
# must be there exactly once, which only positions stored in the data's own
# transaction can give), one into a version-guarded table (the final state
# must be rdapgen's --expected).
source "$(dirname "$0")/lib.sh"

changes 15000 3000 11 changes.jsonl expected.jsonl
cat >run.yaml <<YAML
state_dir: $work/state
log: { level: info }
pipelines:
  - name: log
    source: { plugin: file, config: { path: "$work/changes.jsonl" } }
    sink:
      plugin: sqlite
      config: { path: "$work/out/log.db", table: changes, mode: append, exactly_once: true }
    batch: { max_records: 200, max_wait: 20ms }
    errors: { tolerance: none }
  - name: state
    source: { plugin: file, config: { path: "$work/changes.jsonl" } }
    sink:
      plugin: sqlite
      config: { path: "$work/out/state.db", table: rdap_domains, exactly_once: true }
    batch: { max_records: 200, max_wait: 20ms }
    errors: { tolerance: none }
YAML

kills=0 attempts=0
while [ "$kills" -lt "${KILL9_POINTS:-6}" ]; do
  attempts=$((attempts + 1))
  [ "$attempts" -le 200 ] || fail "the run kept finishing before the kill ($kills kills in $attempts runs)"
  start run.yaml run.log
  sleep_ms "$(random_ms 100 900)"
  if kill -0 "$rdapsync_pid" 2>/dev/null; then
    kill -9 "$rdapsync_pid"
    wait_exit
    kills=$((kills + 1))
    note "kill $kills"
  else
    wait_exit
    [ "$status" -eq 0 ] || { tail -20 run.log >&2; fail "a run exited $status before being killed"; }
    note "run finished before its kill point; starting over from scratch for more kills"
    rm -rf out state
  fi
done
grep -q 'exactly-once: resuming' run.log || fail "no run resumed from the positions stored in the database"

note "restarting until a run completes"
for _ in $(seq 1 20); do
  run run.yaml final.log
  [ "$status" -eq 0 ] && break
  tail -20 final.log >&2
done
[ "$status" -eq 0 ] || fail "no run completed (last status $status)"
check log out/log.db changes changes.jsonl
check state out/state.db rdap_domains expected.jsonl
echo "PASS sqlite kill9 ($kills kills)"
