#!/usr/bin/env bash
# kill -9 at 20 random moments of a 100,000-record file -> PostgreSQL run
# (changes with updates, deletes, duplicates and out-of-order versions),
# restarting each time: after every kill no row holds a version the input
# does not end with, and after the final run the table equals the
# generator's expected state; a trigger shows that no version was applied
# twice (a replayed batch is absorbed by the version guard).
TEST_NAME=faults_kill9_postgres
. "$(dirname "$0")/lib.sh"
. "$FAULTS_DIR/pglib.sh"

RECORDS="${KILL9_RECORDS:-100000}"
KILLS="${KILL9_POINTS:-20}"
TABLE="k9_$RUN_ID"
"$(rdapgen_bin)" --format envelope --count "$RECORDS" --keys $((RECORDS * 3 / 10)) --updates 0.3 --deletes 0.05 \
  --duplicates 0.05 --out-of-order 0.1 --origins 2 --size 700 --seed 12 --expected expected.jsonl -o changes.jsonl
: >empty.jsonl

write_config() { # FILE INPUT
  cat >"$1" <<YAML
state_dir: state
pipelines:
  - name: kill9-postgres
    source: { plugin: file, config: { path: $2 } }
    sink: { plugin: postgres, config: { dsn: "\${env:FAULTS_PG_DSN}", table: $TABLE } }
    batch: { max_records: 500, max_wait: 50ms }
    retry: { backoff_initial: 50ms, backoff_max: 1s }
YAML
}
write_config empty.yaml empty.jsonl
write_config run.yaml changes.jsonl
create_sink_table empty.yaml
track_applied "$TABLE"
load_expected "$WORK/expected.jsonl" "${TABLE}_exp"
load_all_versions changes.jsonl "${TABLE}_exp"

FAIL_LOGS="$WORK/run.log"
. "$FAULTS_DIR/kill9_loop.sh"
reset_output() { rm -rf state; pgq "TRUNCATE $TABLE, ${TABLE}_applied"; }
after_kill() {
  local bad; bad="$(invented "$TABLE" "${TABLE}_exp")"
  [[ "$bad" == 0 ]] || fail "after kill $1: $bad row(s) hold a version the input does not end with"
}
kill9_loop run.yaml "$KILLS"

diff="$(differences "$TABLE" "${TABLE}_exp")"
[[ "$diff" == 0 ]] || fail "after $KILLS kills the table differs from the expected state in $diff key(s)"
twice="$(applied_twice "$TABLE")"
[[ "$twice" == 0 ]] || fail "$twice version(s) were applied twice"
log "PASS ($KILLS kills, $RESTARTS_FROM_SCRATCH restart(s) from scratch; $(pgq "SELECT count(*) FROM ${TABLE}_exp") live keys, $(pgq "SELECT count(*) FROM ${TABLE}_applied") versions applied)"
drop_pg "$TABLE" "${TABLE}_applied" "${TABLE}_exp" "${TABLE}_exp_raw" "${TABLE}_exp_all"
