#!/usr/bin/env bash
# MariaDB stopped and started again in the middle of a run: nothing is lost.
# The test runs a MariaDB of its own (scripts/servers/mariadb.sh with its
# own folder and port), so that stopping it disturbs no other test. Two
# pipelines read the same changes: a version-guarded table must end in
# rdapgen's expected state, and an append table with exactly_once must hold
# every change exactly once (commits whose answer was lost in the shutdown
# included).
TEST_NAME=mysql_restart
. "$(dirname "$0")/lib.sh"

SERVER="$RDAPSYNC_SOURCE_DIR/scripts/servers/mariadb.sh"
[[ -x "$SERVER" || -f "$SERVER" ]] || fail "$SERVER is missing"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$((RDAPSYNC_MYSQL_PORT + 101))
while ! port_free "$port"; do port=$((port + 1)); done
# Everything below talks to the private server.
export RDAPSYNC_MYSQL_PORT="$port" RDAPSYNC_SERVERS_DIR="$WORK/servers"
private_server() { bash "$SERVER" "$1" 2>>"$WORK/server.log"; }
CLEANUPS+=("private_server stop")
log "private MariaDB on 127.0.0.1:$port"
private_server start || { tail -n 30 "$WORK/server.log" >&2; fail "the private MariaDB did not start"; }
create_database

changes 30000 5000 13 changes.jsonl expected.jsonl
cat >run.yaml <<YAML
state_dir: $WORK/state
pipelines:
  - name: state
    source: { plugin: file, config: { path: "$WORK/changes.jsonl" } }
    sink: { plugin: mysql, config: { $(sink_options), table: rdap_domains, connect_timeout: 2s } }
    batch: { max_records: 200, max_wait: 20ms }
    retry: { backoff_initial: 100ms, backoff_max: 1s }
    errors: { tolerance: none }
  - name: log
    source: { plugin: file, config: { path: "$WORK/changes.jsonl" } }
    sink:
      plugin: mysql
      config: { $(sink_options), table: changes, mode: append, exactly_once: true, connect_timeout: 2s }
    batch: { max_records: 200, max_wait: 20ms }
    retry: { backoff_initial: 100ms, backoff_max: 1s }
    errors: { tolerance: none }
YAML

"$RDAPSYNC_BIN" run run.yaml >run.log 2>&1 &
pid=$!
CLEANUPS+=("kill -9 $pid 2>/dev/null")
rows() { myq "SELECT (SELECT count(*) FROM changes) + (SELECT count(*) FROM rdap_domains)" "$SINK_DB" 2>/dev/null || echo 0; }
deadline=$((SECONDS + 120))
until [[ "$(rows)" -ge 4000 ]]; do
  kill -0 "$pid" 2>/dev/null || { tail -n 20 run.log >&2; fail "rdapsync ended before the server was stopped"; }
  (( SECONDS < deadline )) || fail "no rows arrived in 120 s"
  sleep 0.2
done
log "stopping MariaDB with $(rows) rows in"
private_server stop
kill -0 "$pid" 2>/dev/null || { tail -n 20 run.log >&2; fail "rdapsync ended while the server was down"; }
sleep 3
log "starting MariaDB again"
private_server start || { tail -n 30 "$WORK/server.log" >&2; fail "the private MariaDB did not start again"; }

status=0
wait "$pid" || status=$?
[[ "$status" -eq 0 ]] || { tail -n 30 run.log >&2; fail "rdapsync exited $status"; }
grep -q 'retry in' run.log || fail "the sinks never answered retry: the outage was not seen"
grep -q 'reconnected to the server' run.log || fail "no sink reconnected"
assert_state rdap_domains expected.jsonl "version-guarded table after the restart"
assert_log changes changes.jsonl "append table with exactly_once after the restart"
log "PASS"
