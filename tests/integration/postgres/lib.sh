# Helpers for the PostgreSQL sink's integration tests. Source it.
#
# The server is the project's: `scripts/servers/postgres.sh start`, then
# `eval "$(scripts/servers/postgres.sh env)"` exports RDAPSYNC_PG_DSN. A test
# without RDAPSYNC_PG_DSN fails (CI always starts the server).
set -euo pipefail

: "${RDAPSYNC_SOURCE_DIR:?run through ctest (RDAPSYNC_SOURCE_DIR is not set)}"
: "${RDAPSYNC_BINARY_DIR:?run through ctest (RDAPSYNC_BINARY_DIR is not set)}"
: "${RDAPSYNC_BIN:?run through ctest (RDAPSYNC_BIN is not set)}"
: "${RDAPSYNC_PLUGIN_PATH:?run through ctest (RDAPSYNC_PLUGIN_PATH is not set)}"

TEST_NAME="${TEST_NAME:-$(basename "$0" .sh)}"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

if [[ -z "${RDAPSYNC_PG_DSN:-}" ]]; then
  fail "RDAPSYNC_PG_DSN is not set: start the server with scripts/servers/postgres.sh start and export what 'scripts/servers/postgres.sh env' prints"
fi
command -v psql >/dev/null || fail "psql not found (Debian package postgresql-client)"

# A fresh work folder per run, removed on success, kept on failure.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
cleanup_work() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup_work EXIT
cd "$WORK"

# Table names unique to this run, so tests may share the server.
RUN_ID="$(printf '%s_%s' "$TEST_NAME" "$$" | tr -c 'a-z0-9_\n' '_')"

# The sink's connections carry this application_name, so a test can find
# (and terminate) exactly them.
APP_NAME="rdapsync_$RUN_ID"
SINK_DSN="$RDAPSYNC_PG_DSN application_name=$APP_NAME"
export SINK_DSN

# psql with one query; prints unaligned tuples.
pgq() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" -c "$1"; }
# psql with a script on stdin.
pgs() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" "$@"; }

rdapgen_bin() {
  local candidate
  for candidate in "${RDAPGEN:-}" "$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen" "$RDAPSYNC_BINARY_DIR/rdapgen"; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  fail "rdapgen not found in $RDAPSYNC_BINARY_DIR/tools/rdapgen (build the rdapgen target)"
}

# rdapsync_run CONFIG [LOG]: runs the pipeline file to its end.
rdapsync_run() {
  local config="$1" logfile="${2:-rdapsync.log}"
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run "$config" >>"$logfile" 2>&1
}

# wait_for TIMEOUT_S DESCRIPTION CMD...: polls CMD every 0.1 s.
wait_for() {
  local timeout_s="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || fail "timed out after ${timeout_s}s waiting for: $what"
    sleep 0.1
  done
}

# The table of the documented upsert schema (docs/plugins/sink-postgres.md),
# for tests that add triggers or constraints before the sink starts.
create_upsert_table() {
  local table="$1"
  pgq "CREATE TABLE $table (
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

# load_expected FILE TABLE: an rdapgen --expected file as a table
# (key, ts_ms, origin, seq, value jsonb). COPY reads each line whole: the
# CSV quote and delimiter are bytes JSON text never contains.
load_expected() {
  local file="$1" table="$2"
  pgq "DROP TABLE IF EXISTS ${table}_raw, $table"
  pgq "CREATE TABLE ${table}_raw (line jsonb)"
  pgs -c "\\copy ${table}_raw (line) FROM '$file' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
  pgq "CREATE TABLE $table AS SELECT line->>'key' AS key, (line->>'ts_ms')::bigint AS ts_ms,
         line->>'origin' AS origin, (line->>'seq')::bigint AS seq, line->'value' AS value FROM ${table}_raw"
}

# state_differences SINK_TABLE EXPECTED_TABLE: prints the count of keys whose
# live row (document and version) differs from the expected one, either way.
state_differences() {
  local sink="$1" expected="$2"
  pgq "SELECT count(*) FROM (SELECT * FROM $sink WHERE NOT deleted) s
         FULL JOIN $expected e ON s.key = e.key
        WHERE s.key IS NULL OR e.key IS NULL OR s.doc IS DISTINCT FROM e.value
           OR s.event_time_ms IS DISTINCT FROM e.ts_ms OR s.origin IS DISTINCT FROM e.origin
           OR s.seq IS DISTINCT FROM e.seq"
}

# assert_state SINK_TABLE EXPECTED_TABLE WHEN
assert_state() {
  local diff
  diff="$(state_differences "$1" "$2")"
  if [[ "$diff" != 0 ]]; then
    pgq "SELECT coalesce(s.key, e.key) FROM (SELECT * FROM $1 WHERE NOT deleted) s FULL JOIN $2 e ON s.key = e.key
          WHERE s.key IS NULL OR e.key IS NULL OR s.doc IS DISTINCT FROM e.value OR s.seq IS DISTINCT FROM e.seq
          LIMIT 5" >&2 || true
    fail "$3: $diff key(s) differ from the expected state"
  fi
  log "$3: state matches ($(pgq "SELECT count(*) FROM $2") live keys)"
}

# drop_tables NAME...: at the end of a passing test.
drop_tables() {
  local t
  for t in "$@"; do pgq "DROP TABLE IF EXISTS $t CASCADE" >/dev/null 2>&1 || true; done
}
