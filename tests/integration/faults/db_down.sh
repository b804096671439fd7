#!/usr/bin/env bash
# The database goes away for 20 s in the middle of a file -> PostgreSQL run
# (the real server, stopped and started with scripts/servers/postgres.sh):
# the task retries with backoff, /status and /metrics show its circuit open
# while the server is down and closed again once it is back, the run
# completes, the table equals the expected state, and no version was
# applied twice. Prints how long the task took to deliver again after the
# server was back.
TEST_NAME=faults_db_down
. "$(dirname "$0")/lib.sh"
. "$FAULTS_DIR/pglib.sh"

[[ -n "${RDAPSYNC_SERVERS_DIR:-}" ]] \
  || fail "RDAPSYNC_SERVERS_DIR is not set: this test stops and starts the server with scripts/servers/postgres.sh, which must find the one RDAPSYNC_PG_DSN points to"
PG_SCRIPT="$RDAPSYNC_SOURCE_DIR/scripts/servers/postgres.sh"
bash "$PG_SCRIPT" status >/dev/null || fail "scripts/servers/postgres.sh status: the server of RDAPSYNC_SERVERS_DIR is not running"
restart_server() { bash "$PG_SCRIPT" start >>server.log 2>&1 || true; }
trap 'restart_server; cleanup' EXIT # never leave the shared server stopped

RECORDS="${DB_DOWN_RECORDS:-60000}"
OUTAGE_S="${DB_DOWN_SECONDS:-20}"
TABLE="dbd_$RUN_ID"
port="$(free_port)"
"$(rdapgen_bin)" --format envelope --count "$RECORDS" --keys $((RECORDS * 3 / 10)) --updates 0.3 --deletes 0.05 \
  --duplicates 0.05 --out-of-order 0.1 --origins 2 --size 700 --seed 13 --expected expected.jsonl -o changes.jsonl
: >empty.jsonl

write_config() { # FILE INPUT
  cat >"$1" <<YAML
state_dir: state
http: { listen: "127.0.0.1:$port" }
pipelines:
  - name: db-down
    source: { plugin: file, config: { path: $2 } }
    sink: { plugin: postgres, config: { dsn: "\${env:FAULTS_PG_DSN}", table: $TABLE, connect_timeout: 2s } }
    batch: { max_records: 500, max_wait: 50ms }
    retry: { backoff_initial: 100ms, backoff_max: 2s }
    restart: { max_failures: 5, window: 1m, backoff_initial: 200ms, backoff_max: 2s }
YAML
}
write_config empty.yaml empty.jsonl
write_config run.yaml changes.jsonl
create_sink_table empty.yaml
track_applied "$TABLE"
load_expected "$WORK/expected.jsonl" "${TABLE}_exp"
load_all_versions changes.jsonl "${TABLE}_exp"

out_metric='rdapsync_task_records_out_total{pipeline="db-down",task="0"}'
records_out() { probe metric "$port" "$out_metric" || echo 0; }
out_at_least() { (( $(records_out) >= $1 )); }

FAIL_LOGS="$WORK/run.log $WORK/server.log"
start run.yaml run.log
wait_until "/status answers" probe get "$port" /status
wait_until "a quarter of the records delivered" out_at_least $((RECORDS / 4))

t_stop="$(now_ms)"
bash "$PG_SCRIPT" stop >>server.log 2>&1 || fail "could not stop the server"
# A batch whose commit reached the server just before it went down is
# counted a moment later: take the baseline once the task has noticed the
# outage (retrying or restarting), not before the stop.
noticed() { local s; s="$(probe task "$port" db-down 0 state || true)"; [[ $s == retrying || $s == restarting ]]; }
wait_until "the task notices the outage" noticed
before="$(records_out)"
log "server stopped after $before delivered records; down for ${OUTAGE_S}s"

# While it is down: watch what the endpoint says, every 200 ms.
states="" open_seen=0 metric_open_seen=0
while (( $(now_ms) - t_stop < OUTAGE_S * 1000 )); do
  kill -0 "$RDAPSYNC_PID" 2>/dev/null || fail "rdapsync exited while the server was down"
  state="$(probe task "$port" db-down 0 state || true)"
  [[ " $states " == *" $state "* ]] || states="$states $state"
  [[ "$(probe task "$port" db-down 0 circuit || true)" == open ]] && open_seen=1
  [[ "$(probe metric "$port" 'rdapsync_task_circuit_open{pipeline="db-down",task="0"}' || true)" == 1 ]] && metric_open_seen=1
  sleep 0.2
done
during="$(records_out)"
retries="$(probe metric "$port" 'rdapsync_task_retries_total{pipeline="db-down",task="0"}')"
restarts="$(probe metric "$port" 'rdapsync_task_restarts_total{pipeline="db-down",task="0"}')"
log "while down: states seen:$states; retries $retries, restarts $restarts, records out $before -> $during"
(( open_seen )) || fail "/status never showed the circuit open while the server was down (states:$states)"
(( metric_open_seen )) || fail "/metrics never showed rdapsync_task_circuit_open 1 while the server was down"
(( retries + restarts > 0 )) || fail "no retry and no restart while the server was down"
(( during - before <= 500 )) || fail "$((during - before)) records delivered while the server was down"

restart_server
t_up="$(now_ms)"
bash "$PG_SCRIPT" status >/dev/null || fail "the server did not come back"
wait_until "records flow again" out_at_least $((during + 1))
t_flow="$(now_ms)"
wait_until "the circuit closes" task_is "$port" db-down 0 circuit closed
log "server back: records flow again after $((t_flow - t_up)) ms (outage to first delivery: $((t_flow - t_stop)) ms)"

wait_exit
[[ "$STATUS" -eq 0 ]] || fail "the run exited $STATUS"
grep -q "giving up" run.log && fail "the task gave up"
diff="$(differences "$TABLE" "${TABLE}_exp")"
[[ "$diff" == 0 ]] || fail "the table differs from the expected state in $diff key(s)"
[[ "$(invented "$TABLE" "${TABLE}_exp")" == 0 ]] || fail "rows hold versions the input does not end with"
twice="$(applied_twice "$TABLE")"
[[ "$twice" == 0 ]] || fail "$twice version(s) were applied twice"
log "PASS: state matches ($(pgq "SELECT count(*) FROM ${TABLE}_exp") live keys), no version applied twice"
drop_pg "$TABLE" "${TABLE}_applied" "${TABLE}_exp" "${TABLE}_exp_raw" "${TABLE}_exp_all"
