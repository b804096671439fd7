#!/usr/bin/env bash
# Exactly-once under kill -9: file -> mysql with exactly_once, killed with
# SIGKILL at random moments and restarted until a run completes. Two
# pipelines read the same changes: an append table (one row per change:
# after the kills every change must be there exactly once, which only
# positions stored in the data's own transaction can give) and a
# version-guarded table (the final state must be rdapgen's --expected).
TEST_NAME=mysql_kill9
. "$(dirname "$0")/lib.sh"

create_database
CLEANUPS+=("drop_database")
changes 15000 3000 11 changes.jsonl expected.jsonl
cat >run.yaml <<YAML
state_dir: $WORK/state
pipelines:
  - name: log
    source: { plugin: file, config: { path: "$WORK/changes.jsonl" } }
    sink:
      plugin: mysql
      config: { $(sink_options), table: changes, mode: append, exactly_once: true }
    batch: { max_records: 200, max_wait: 20ms }
    errors: { tolerance: none }
  - name: state
    source: { plugin: file, config: { path: "$WORK/changes.jsonl" } }
    sink:
      plugin: mysql
      config: { $(sink_options), table: rdap_domains, exactly_once: true }
    batch: { max_records: 200, max_wait: 20ms }
    errors: { tolerance: none }
YAML

pid=
CLEANUPS+=('[[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null')
kills=0 attempts=0
while [[ "$kills" -lt "${KILL9_POINTS:-6}" ]]; do
  attempts=$((attempts + 1))
  [[ "$attempts" -le 100 ]] || fail "the run kept finishing before the kill ($kills kills in $attempts runs)"
  "$RDAPSYNC_BIN" run run.yaml >>run.log 2>&1 &
  pid=$!
  sleep "0.$((2 + RANDOM % 8))"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    kills=$((kills + 1))
    log "kill $kills: $(myq "SELECT count(*) FROM changes" "$SINK_DB" 2>/dev/null || echo 0) rows in the change log"
  else
    status=0
    wait "$pid" || status=$?
    [[ "$status" -eq 0 ]] || { tail -n 20 run.log >&2; fail "a run exited $status before being killed"; }
    log "run finished before its kill point; starting over for more kills"
    rm -rf state
    myq "DROP TABLE IF EXISTS changes, rdap_domains, rdapsync_positions; DROP VIEW IF EXISTS rdap_domains_live" "$SINK_DB"
  fi
  pid=
done
grep -q 'exactly-once: resuming' run.log || fail "no run resumed from the positions stored in the database"

log "restarting until a run completes"
for _ in $(seq 1 20); do
  rdapsync_run run.yaml final.log
  [[ "$status" -eq 0 ]] && break
  tail -n 20 final.log >&2
done
[[ "$status" -eq 0 ]] || fail "no run completed (last status $status)"
assert_log changes changes.jsonl "append table with exactly_once after $kills kills"
assert_state rdap_domains expected.jsonl "version-guarded table after $kills kills"
log "PASS"
