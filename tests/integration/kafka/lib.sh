# Helpers for the kafka integration tests. Source it.
#
# The servers are the project's: `scripts/servers/kafka.sh start` and
# `scripts/servers/postgres.sh start`, then `eval` what their `env` verbs
# print (RDAPSYNC_KAFKA_BROKERS, RDAPSYNC_PG_DSN). A test without them fails
# (CI always starts the servers).
set -euo pipefail

: "${RDAPSYNC_SOURCE_DIR:?run through ctest (RDAPSYNC_SOURCE_DIR is not set)}"
: "${RDAPSYNC_BINARY_DIR:?run through ctest (RDAPSYNC_BINARY_DIR is not set)}"
: "${RDAPSYNC_BIN:?run through ctest (RDAPSYNC_BIN is not set)}"
: "${RDAPSYNC_PLUGIN_PATH:?run through ctest (RDAPSYNC_PLUGIN_PATH is not set)}"

TEST_NAME="${TEST_NAME:-$(basename "$0" .sh)}"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

[[ -n "${RDAPSYNC_KAFKA_BROKERS:-}" ]] ||
  fail "RDAPSYNC_KAFKA_BROKERS is not set: start the broker with scripts/servers/kafka.sh start and export what 'scripts/servers/kafka.sh env' prints"
[[ -n "${RDAPSYNC_PG_DSN:-}" ]] ||
  fail "RDAPSYNC_PG_DSN is not set: start the server with scripts/servers/postgres.sh start and export what 'scripts/servers/postgres.sh env' prints"
command -v psql >/dev/null || fail "psql not found (Debian package postgresql-client)"
BROKERS="$RDAPSYNC_KAFKA_BROKERS"

FEED="$RDAPSYNC_BINARY_DIR/tests/integration/kafka/kafka_feed"
[[ -x "$FEED" ]] || fail "kafka_feed not found in $RDAPSYNC_BINARY_DIR/tests/integration/kafka (build the kafka_feed target)"
RDAPGEN="$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen"
[[ -x "$RDAPGEN" ]] || fail "rdapgen not found in $RDAPSYNC_BINARY_DIR/tools/rdapgen (build the rdapgen target)"

# A fresh work folder per run, removed on success, kept on failure; every
# rdapsync this test started is killed on the way out.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
STARTED_PIDS=()
cleanup_work() {
  local rc=$? pid
  for pid in "${STARTED_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup_work EXIT
cd "$WORK"

# Names unique to this run, so tests may share the servers.
RUN_ID="$(printf '%s_%s_%s' "$TEST_NAME" "$$" "$(date +%s)" | tr -c 'a-z0-9_\n' '_')"

pgq() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" -c "$1"; }
pgs() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" "$@"; }

now_ms() { date +%s%3N; }

# create_topic NAME PARTITIONS
create_topic() { "$FEED" --brokers "$BROKERS" --topic "$1" --create "$2" || fail "cannot create topic $1"; }

# start_rdapsync CONFIG LOG: runs `rdapsync run` in the background; its pid
# is left in RDAPSYNC_PID (call it directly, not in $(...): the test shell
# must be its parent to wait for it).
start_rdapsync() {
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run "$1" >>"$2" 2>&1 &
  RDAPSYNC_PID=$!
  STARTED_PIDS+=("$RDAPSYNC_PID")
}

# stop_rdapsync PID LOG: SIGTERM, then the exit status must be 0 (drained).
stop_rdapsync() {
  local pid="$1" logfile="$2" rc=0
  kill -TERM "$pid" 2>/dev/null || fail "rdapsync $pid is not running (see $logfile)"
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || { tail -n 30 "$logfile" >&2; fail "rdapsync exited with status $rc after SIGTERM"; }
}

# alive PID LOG: fails when the process has died.
alive() { kill -0 "$1" 2>/dev/null || { tail -n 30 "$2" >&2; fail "rdapsync $1 died (see $2)"; }; }

# wait_for TIMEOUT_S DESCRIPTION PID LOG CMD...: polls CMD every 0.5 s while PID lives.
wait_for() {
  local timeout_s="$1" what="$2" pid="$3" logfile="$4"; shift 4
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    [[ -z "$pid" ]] || alive "$pid" "$logfile"
    (( SECONDS < deadline )) || fail "timed out after ${timeout_s}s waiting for: $what"
    sleep 0.5
  done
}

# The sink table of the documented upsert schema (docs/plugins/sink-postgres.md).
create_upsert_table() {
  pgq "CREATE TABLE $1 (
         key text PRIMARY KEY,
         doc jsonb,
         deleted boolean NOT NULL DEFAULT false,
         event_time_ms bigint NOT NULL,
         origin text COLLATE \"C\" NOT NULL DEFAULT '',
         seq bigint NOT NULL,
         src_stream text,
         src_partition integer,
         src_offset bigint,
         updated_at timestamptz NOT NULL DEFAULT now())"
}

# count_deliveries TABLE: a trigger logs every row the sink writes into
# TABLE_deliveries (partition, offset), so that records written twice can
# be counted.
count_deliveries() {
  pgs <<SQL
CREATE TABLE $1_deliveries (p integer, o bigint);
CREATE FUNCTION $1_log() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO $1_deliveries VALUES (NEW.src_partition, NEW.src_offset); RETURN NEW; END \$\$;
CREATE TRIGGER $1_log BEFORE INSERT ON $1 FOR EACH ROW EXECUTE FUNCTION $1_log();
SQL
}

# load_expected FILE TABLE: an rdapgen --expected file as a table
# (key, ts_ms, origin, seq, value jsonb).
load_expected() {
  local file="$1" table="$2"
  pgq "CREATE TABLE ${table}_raw (line jsonb)"
  pgs -c "\\copy ${table}_raw (line) FROM '$file' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
  pgq "CREATE TABLE $table AS SELECT line->>'key' AS key, (line->>'ts_ms')::bigint AS ts_ms,
         line->>'origin' AS origin, (line->>'seq')::bigint AS seq, line->'value' AS value FROM ${table}_raw"
}

# state_differences SINK EXPECTED: keys whose live row (document and
# version) differs from the expected one, either way; 0 when they agree.
state_differences() {
  pgq "SELECT count(*) FROM (SELECT * FROM $1 WHERE NOT deleted) s
         FULL JOIN $2 e ON s.key = e.key
        WHERE s.key IS NULL OR e.key IS NULL OR s.doc IS DISTINCT FROM e.value
           OR s.event_time_ms IS DISTINCT FROM e.ts_ms OR s.origin IS DISTINCT FROM e.origin
           OR s.seq IS DISTINCT FROM e.seq"
}
state_matches() { [[ "$(state_differences "$1" "$2")" == 0 ]]; }

# file_lines FILE...: total lines of the files that exist.
file_lines() { cat "$@" 2>/dev/null | wc -l; }
# lines_at_least N FILE...: true once the files hold N lines together.
lines_at_least() { local n="$1"; shift; [[ "$(file_lines "$@")" -ge "$n" ]]; }

# ts_ms "ts=2026-01-01T00:00:00.123Z ..." log line -> epoch ms.
log_line_ms() {
  local ts
  ts="$(sed -n 's/^ts=\([^ ]*\).*/\1/p' <<<"$1")"
  date -d "$ts" +%s%3N
}

drop_tables() {
  local t
  for t in "$@"; do pgq "DROP TABLE IF EXISTS $t CASCADE" >/dev/null 2>&1 || true; done
}
