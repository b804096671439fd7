# Helpers for the MySQL sink's integration tests. Source it.
#
# The server is the project's: `scripts/servers/mariadb.sh start`, then
# `eval "$(scripts/servers/mariadb.sh env)"` exports RDAPSYNC_MYSQL_HOST,
# _PORT, _USER, _PASSWORD and _DB. A test without them fails (CI always
# starts the server). Each test works in a database of its own, created here
# and dropped when the test passes, so tests may share the server.
set -euo pipefail

: "${RDAPSYNC_SOURCE_DIR:?run through ctest (RDAPSYNC_SOURCE_DIR is not set)}"
: "${RDAPSYNC_BINARY_DIR:?run through ctest (RDAPSYNC_BINARY_DIR is not set)}"
: "${RDAPSYNC_BIN:?run through ctest (RDAPSYNC_BIN is not set)}"
: "${RDAPSYNC_PLUGIN_PATH:?run through ctest (RDAPSYNC_PLUGIN_PATH is not set)}"

TEST_NAME="${TEST_NAME:-$(basename "$0" .sh)}"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

for var in RDAPSYNC_MYSQL_HOST RDAPSYNC_MYSQL_PORT RDAPSYNC_MYSQL_USER RDAPSYNC_MYSQL_PASSWORD; do
  [[ -n "${!var:-}" ]] || fail "$var is not set: start the server with scripts/servers/mariadb.sh start and export what 'scripts/servers/mariadb.sh env' prints"
done
MYSQL_CLIENT="$(command -v mariadb || command -v mysql || true)"
[[ -n "$MYSQL_CLIENT" ]] || fail "the mariadb client is not installed (Debian package mariadb-client)"
[[ -f "$RDAPSYNC_PLUGIN_PATH/sink-mysql.so" ]] || fail "sink-mysql.so is not built"
export RDAPSYNC_PLUGIN_PATH

# A fresh work folder per run, removed on success, kept on failure.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
CLEANUPS=()
cleanup_work() {
  local rc=$? c
  for c in "${CLEANUPS[@]}"; do eval "$c" || true; done
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup_work EXIT
cd "$WORK"

# The test's own database.
RUN_ID="$(printf '%s_%s' "$TEST_NAME" "$$" | tr -c 'a-z0-9_\n' '_')"
SINK_DB="rdapsync_$RUN_ID"
export SINK_DB

# myq SQL [DATABASE]: one statement (or several, ;-separated), tab-separated rows, no headers.
myq() {
  "$MYSQL_CLIENT" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" -P "$RDAPSYNC_MYSQL_PORT" \
    -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" --default-character-set=utf8mb4 -N -B -r --quick \
    ${2:+"$2"} -e "$1"
}

create_database() {
  myq "DROP DATABASE IF EXISTS \`$SINK_DB\`; CREATE DATABASE \`$SINK_DB\` CHARACTER SET utf8mb4"
}
drop_database() { myq "DROP DATABASE IF EXISTS \`$SINK_DB\`" >/dev/null 2>&1 || true; }

# The sink's options, as a YAML flow mapping's members (no braces).
sink_options() {
  printf 'host: "${env:RDAPSYNC_MYSQL_HOST}", port: "${env:RDAPSYNC_MYSQL_PORT}", user: "${env:RDAPSYNC_MYSQL_USER}", password: "${env:RDAPSYNC_MYSQL_PASSWORD}", database: "${env:SINK_DB}"'
}

# Ends every connection to the test's database but the caller's: what a
# network cut or a server-side kill looks like to the sink.
kill_sink_connections() {
  local ids id
  ids="$(myq "SELECT id FROM information_schema.processlist WHERE db = '$SINK_DB' AND id <> CONNECTION_ID()")"
  for id in $ids; do myq "KILL CONNECTION $id" 2>/dev/null || true; done
  [[ -n "$ids" ]]
}

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

# changes COUNT KEYS SEED OUT EXPECTED: change envelopes with updates,
# deletes, duplicates and out-of-order versions over three origins.
changes() {
  "$(rdapgen_bin)" --format envelope --count "$1" --keys "$2" --updates 0.4 --deletes 0.1 --duplicates 0.1 \
    --out-of-order 0.2 --origins 3 --size 1200 --seed "$3" --expected "$5" -o "$4"
  grep -q '"op":"delete"' "$4" || fail "rdapgen gave no deletes"
}

# rdapsync_run CONFIG LOG: runs a pipeline file to its end; sets $status.
rdapsync_run() {
  status=0
  "$RDAPSYNC_BIN" run "$1" >>"$2" 2>&1 || status=$?
}

# dump_state TABLE FILE: the live rows as JSON lines {key, ts_ms, origin, seq, value}.
dump_state() {
  myq "SELECT JSON_OBJECT('key', CONVERT(\`key\` USING utf8mb4), 'ts_ms', event_time_ms,
         'origin', CONVERT(origin USING utf8mb4), 'seq', seq, 'value', JSON_EXTRACT(doc, '\$'))
       FROM \`$1\` WHERE NOT deleted" "$SINK_DB" >"$2"
}

# dump_log TABLE FILE: every row of an append table as JSON lines.
dump_log() {
  myq "SELECT JSON_OBJECT('key', CONVERT(\`key\` USING utf8mb4), 'deleted', deleted, 'ts_ms', event_time_ms,
         'origin', CONVERT(origin USING utf8mb4), 'seq', seq, 'value', JSON_EXTRACT(doc, '\$'),
         'stream', src_stream, 'offset', src_offset)
       FROM \`$1\`" "$SINK_DB" >"$2"
}

check() { python3 "$(dirname "${BASH_SOURCE[0]}")/check_mysql.py" "$@"; }

# assert_state TABLE EXPECTED WHEN: the live rows equal rdapgen's --expected.
assert_state() {
  dump_state "$1" "$WORK/state-$1.jsonl"
  check state "$2" "$WORK/state-$1.jsonl" || fail "$3: the table differs from the expected state"
  log "$3: state matches"
}

# assert_log TABLE INPUT WHEN: an append table holds every change exactly once.
assert_log() {
  dump_log "$1" "$WORK/log-$1.jsonl"
  check log "$2" "$WORK/log-$1.jsonl" || fail "$3: the change log differs from the input"
  log "$3: every change stored exactly once"
}
