#!/usr/bin/env bash
# CDC end to end with the real thing: PostgreSQL (wal_level=logical) ->
# the Debezium PostgreSQL connector (pgoutput) in Kafka Connect ->
# the broker -> rdapsync (kafka source, format debezium, document: doc) ->
# normalize -> redact (gdpr-enterprise) -> the postgres sink, into another
# database.
#
# A snapshot of 10,000 rows, then inserts, updates and deletes by SQL, with a
# kill -9 of rdapsync and a restart of Kafka Connect (changes committed while
# it is down) on the way. The target must converge to the source's documents
# as normalize + redact make them offline (a file pipeline over the source's
# final rows), deleted keys must be tombstones, no personal value of any
# source document may be found in the target table or the dead letters, and
# Debezium's heartbeats and transaction metadata must be counted as skipped,
# not dead-lettered.
TEST_NAME=kafka_debezium_connect
. "$(dirname "$0")/lib.sh"

[[ -n "${RDAPSYNC_CONNECT_URL:-}" ]] ||
  fail "RDAPSYNC_CONNECT_URL is not set: start Kafka Connect with scripts/servers/kafka-connect.sh start and export what 'scripts/servers/kafka-connect.sh env' prints"
CONNECT_SH="$RDAPSYNC_SOURCE_DIR/scripts/servers/kafka-connect.sh"
bash "$CONNECT_SH" status >/dev/null 2>&1 ||
  fail "Kafka Connect at $RDAPSYNC_CONNECT_URL is not one that scripts/servers/kafka-connect.sh manages here (it restarts it): run the tests with the RDAPSYNC_SERVERS_DIR (and port variables) it was started with"
curl -fsS "$RDAPSYNC_CONNECT_URL/connector-plugins" | grep -q 'io.debezium.connector.postgresql.PostgresConnector' ||
  fail "Kafka Connect at $RDAPSYNC_CONNECT_URL has no Debezium PostgreSQL connector"
command -v jq >/dev/null || fail "jq not found (Debian package jq)"
PII="$RDAPSYNC_SOURCE_DIR/tests/e2e/transforms/pii.py"
POLICIES="$RDAPSYNC_SOURCE_DIR/config/policies"

# Short names: the replication slot and the topics carry the prefix.
P="dbz$$_$(date +%s)"
SRC_DB="${P}_src"
TABLE="${P}_dst"
EXPECTED="${P}_exp"
GROUP="$P"
DATA_TOPIC="$P.public.rdap_domains"
TX_TOPIC="$P.transaction"
HB_TOPIC="__debezium-heartbeat.$P"
pg_port="$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$RDAPSYNC_PG_DSN")"
[[ -n "$pg_port" ]] || fail "no port= in RDAPSYNC_PG_DSN"
SRC_DSN="host=127.0.0.1 port=$pg_port dbname=$SRC_DB user=postgres"
src() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$SRC_DSN" "$@"; }

cleanup_cdc() {
  curl -sS -X DELETE "$RDAPSYNC_CONNECT_URL/connectors/$P" >/dev/null 2>&1 || true
  local _
  for _ in $(seq 1 60); do
    pgq "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE slot_name = '$P'" \
      >/dev/null 2>&1 && break
    sleep 0.5
  done
  pgq "DROP DATABASE IF EXISTS $SRC_DB" >/dev/null 2>&1 || true
  # A failure between the stop and the start of the restart below must not
  # leave the shared server stopped.
  bash "$CONNECT_SH" status >/dev/null 2>&1 || bash "$CONNECT_SH" start >/dev/null 2>&1 || true
}
# Then lib.sh's own cleanup (kills rdapsync, keeps or removes the work folder)
# with the test's exit status; errexit off first, or `(exit 1)` would end
# the trap before it and leave rdapsync running after a failure.
trap 'rc=$?; set +e; cleanup_cdc; (exit $rc); cleanup_work' EXIT

# ---- the source database: 10,000 rows before the connector starts ----
"$RDAPGEN" --count 10000 --size 1500 --seed 21 -o snapshot.jsonl
# Seed 22: other content for the same handles (updates), and 1,000 new ones.
"$RDAPGEN" --count 11000 --size 1500 --seed 22 -o changes.jsonl
pgq "CREATE DATABASE $SRC_DB" >/dev/null
src -c "CREATE TABLE rdap_domains (handle text PRIMARY KEY, doc jsonb)" \
    -c "CREATE TABLE snap (n serial, line jsonb)" -c "CREATE TABLE chg (n serial, line jsonb)"
src -c "\\copy snap (line) FROM '$WORK/snapshot.jsonl' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')" \
    -c "\\copy chg (line) FROM '$WORK/changes.jsonl' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
src -c "INSERT INTO rdap_domains SELECT line->>'handle', line FROM snap"
[[ "$(src -c "SELECT count(*) FROM rdap_domains")" == 10000 ]] || fail "the source table does not hold 10000 rows"

# The changes, by line number of the generated files: rows A..B of the
# snapshot get the content of the same lines of changes.jsonl (their own
# handle kept), are deleted; lines A..B of changes.jsonl (beyond 10000:
# handles the snapshot does not have) are inserted.
deleted_total=0
sql_count() { src -c "WITH x AS ($1 RETURNING 1) SELECT count(*) FROM x"; }
update_rows() {
  local n; n="$(sql_count "UPDATE rdap_domains d SET doc = jsonb_set(c.line, '{handle}', to_jsonb(d.handle))
      FROM snap s JOIN chg c USING (n) WHERE s.n BETWEEN $1 AND $2 AND d.handle = s.line->>'handle'")"
  [[ "$n" == $(($2 - $1 + 1)) ]] || fail "updated $n rows of lines $1..$2"
}
delete_rows() { # TABLE(snap|chg) A B
  local n; n="$(sql_count "DELETE FROM rdap_domains WHERE handle IN (SELECT line->>'handle' FROM $1 WHERE n BETWEEN $2 AND $3)")"
  [[ "$n" == $(($3 - $2 + 1)) ]] || fail "deleted $n rows of $1 lines $2..$3"
  deleted_total=$((deleted_total + n))
}
insert_rows() {
  local n; n="$(sql_count "INSERT INTO rdap_domains SELECT line->>'handle', line FROM chg WHERE n BETWEEN $1 AND $2")"
  [[ "$n" == $(($2 - $1 + 1)) ]] || fail "inserted $n rows of lines $1..$2"
}

create_topic "$DATA_TOPIC" 3
create_topic "$TX_TOPIC" 1
create_topic "$HB_TOPIC" 1

cat >connector.json <<JSON
{"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
 "tasks.max": "1",
 "database.hostname": "127.0.0.1", "database.port": "$pg_port",
 "database.user": "postgres", "database.password": "", "database.dbname": "$SRC_DB",
 "topic.prefix": "$P", "plugin.name": "pgoutput",
 "slot.name": "$P", "publication.name": "$P", "publication.autocreate.mode": "filtered",
 "table.include.list": "public.rdap_domains",
 "snapshot.mode": "initial", "skipped.operations": "none", "tombstones.on.delete": "true",
 "heartbeat.interval.ms": "1000", "provide.transaction.metadata": "true"}
JSON
bash "$CONNECT_SH" register "$P" "$WORK/connector.json" || fail "cannot register the connector"
bash "$CONNECT_SH" wait-running "$P" 120 || fail "the connector is not running"

metrics_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >pipeline.yaml <<YAML
state_dir: state
http: { listen: "127.0.0.1:$metrics_port" }
pipelines:
  - name: cdc
    tasks: 2
    source:
      plugin: kafka
      config:
        brokers: "$BROKERS"
        topics: [$DATA_TOPIC, $TX_TOPIC, $HB_TOPIC]
        group: $GROUP
        format: debezium
        key_path: handle
        document: doc
        event_time: source
        session_timeout: 6s
    transforms:
      - { plugin: normalize, config: { error_value: clear } }
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: "$POLICIES" } }
    sink:
      plugin: postgres
      config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $TABLE }
    batch: { max_records: 500, max_wait: 100ms }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "dlq-{task}.jsonl" }, protect: redact } }
YAML

live_count() { pgq "SELECT count(*) FROM $TABLE WHERE NOT deleted" 2>/dev/null || echo 0; }
live_is() { [[ "$(live_count)" == "$1" ]]; }

start_rdapsync pipeline.yaml run1.log
pid=$RDAPSYNC_PID
wait_for 300 "the snapshot's 10000 rows in the target" "$pid" run1.log live_is 10000
log "snapshot of 10000 rows in the target"

# ---- changes by SQL; kill -9 of rdapsync in the middle ----
insert_rows 10001 10500
update_rows 1 1000
delete_rows snap 9001 9300
sleep 1
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
log "rdapsync killed (-9) with changes in flight"
# Changes made while rdapsync is down, one per transaction.
for i in $(seq 1001 1100); do update_rows "$i" "$i"; done
start_rdapsync pipeline.yaml run2.log
pid=$RDAPSYNC_PID

# ---- a restart of Kafka Connect, with changes committed while it is down ----
bash "$CONNECT_SH" stop || fail "cannot stop Kafka Connect"
insert_rows 10501 11000
update_rows 2001 2500
delete_rows snap 8001 8200
bash "$CONNECT_SH" start || fail "cannot start Kafka Connect again"
# Standalone Connect keeps connector configurations in memory only: register
# it again; its source offsets (the file) make it resume where it stopped.
bash "$CONNECT_SH" register "$P" "$WORK/connector.json" || fail "cannot register the connector again"
bash "$CONNECT_SH" wait-running "$P" 120 || fail "the connector did not resume after the restart"
log "Kafka Connect restarted"
delete_rows chg 10991 11000
n="$(sql_count "UPDATE rdap_domains SET doc = jsonb_set(doc, '{port43}', '\"whois.changed.example\"')
      WHERE handle IN (SELECT line->>'handle' FROM chg WHERE n BETWEEN 10901 AND 10950)")"
[[ "$n" == 50 ]] || fail "updated $n of the inserted rows"
final="$(src -c "SELECT count(*) FROM rdap_domains")"
[[ "$final" == $((10000 + 1000 - deleted_total)) ]] || fail "the source holds $final rows"

# ---- what the target must hold: the source's final rows, normalized and redacted offline ----
# As change envelopes with the connector's origin (topic.prefix, Debezium's
# source.name): normalize records the origin in the unified document.
src -c "\\copy (SELECT json_build_object('key', handle, 'op', 'upsert', 'origin', '$P', 'value', doc)
               FROM rdap_domains ORDER BY handle) TO '$WORK/final.jsonl'"
mkdir offline
cat >offline.yaml <<YAML
state_dir: offline/state
pipelines:
  - name: offline
    source: { plugin: file, config: { path: "$WORK/final.jsonl" } }
    transforms:
      - { plugin: normalize, config: { error_value: clear } }
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: "$POLICIES" } }
    sink: { plugin: file, config: { path: "$WORK/offline/out.jsonl", format: envelope } }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "$WORK/offline/dead.jsonl" }, protect: redact } }
YAML
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run offline.yaml >offline.log 2>&1 ||
  { tail -n 20 offline.log >&2; fail "the offline file pipeline failed"; }
[[ "$(file_lines offline/out.jsonl)" == "$final" ]] || fail "the offline pipeline wrote $(file_lines offline/out.jsonl) of $final documents"
pgq "CREATE TABLE ${EXPECTED}_raw (line jsonb)"
pgs -c "\\copy ${EXPECTED}_raw (line) FROM '$WORK/offline/out.jsonl' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
pgq "CREATE TABLE $EXPECTED AS SELECT line->>'key' AS key, line->'value' AS value FROM ${EXPECTED}_raw"

# The retention deadline is event time + the policy's days: the offline run
# dates a document by its 'last changed' event, CDC by the commit time. It
# is left out of the comparison; everything else must be equal.
strip() { printf "(%s #- '{rdapsync,retention_until}')" "$1"; }
differences() {
  pgq "SELECT count(*) FROM (SELECT * FROM $TABLE WHERE NOT deleted) s FULL JOIN $EXPECTED e ON s.key = e.key
        WHERE s.key IS NULL OR e.key IS NULL OR $(strip s.doc) IS DISTINCT FROM $(strip e.value)"
}
converged() { [[ "$(differences)" == 0 ]]; }
wait_for 300 "the target to converge to the source's redacted documents" "$pid" run2.log converged
log "the target holds the source's $final documents, redacted"

# Deletes propagate: every deleted key is a tombstone row.
deleted="$(pgq "SELECT count(*) FROM $TABLE WHERE deleted")"
[[ "$deleted" == "$deleted_total" ]] || fail "$deleted tombstone rows in the target, $deleted_total rows deleted"
# The retention annotation is there, only dated differently.
[[ "$(pgq "SELECT count(*) FROM $TABLE WHERE NOT deleted AND doc->'rdapsync'->>'retention_until' IS NULL")" == 0 ]] ||
  fail "target documents without rdapsync.retention_until"

# Debezium's own messages were skipped and counted, not dead-lettered.
metrics="$(curl -fsS "http://127.0.0.1:$metrics_port/metrics")" || fail "no /metrics on port $metrics_port"
metric_sum() { awk -v m="$1" 'index($1, m) == 1 { s += $2 } END { print s + 0 }' <<<"$metrics"; }
hb="$(metric_sum rdapsync_plugin_debezium_heartbeats_total)"
tx="$(metric_sum rdapsync_plugin_debezium_transactions_total)"
log "skipped: $hb heartbeats, $tx transaction metadata messages (this run)"
[[ "$tx" -gt 0 ]] || fail "no transaction metadata message counted in /metrics"
[[ "$hb" -gt 0 ]] || fail "no heartbeat counted in /metrics"
stop_rdapsync "$pid" run2.log
dead="$(file_lines dlq-*.jsonl)"
[[ "$dead" == 0 ]] || { head -c 2000 dlq-*.jsonl >&2; fail "$dead dead letters (expected none)"; }

# No personal value of any source document in the target or the dead letters.
pgq "SELECT doc FROM $TABLE WHERE doc IS NOT NULL" >target.jsonl
[[ "$(file_lines target.jsonl)" == "$final" ]] || fail "target export has $(file_lines target.jsonl) documents"
python3 "$PII" extract needles.json snapshot.jsonl changes.jsonl
if python3 "$PII" scan needles.json snapshot.jsonl >control.txt 2>&1; then
  fail "the scanner finds nothing in the inputs themselves: it cannot find leaks either"
fi
touch dlq-0.jsonl dlq-1.jsonl
python3 "$PII" scan needles.json target.jsonl dlq-0.jsonl dlq-1.jsonl ||
  fail "personal values found in the target table or the dead letters"

drop_tables "$TABLE" "$EXPECTED" "${EXPECTED}_raw"
log "PASS"
