#!/usr/bin/env bash
# Swapping databases is an edit to YAML, never a rebuild (docs/
# swapping-databases.md). One pipeline file is run five times over the same
# 10,000 generated changes (updates, deletes, out-of-order versions,
# duplicates); between runs only its `sink:` block changes: postgres,
# mysql, mongodb, sqlite, redis. Each database's live content is exported and
# canonicalized (canon-jsonl: rdapgen's --expected form); the five exports
# must be byte-identical to each other and to rdapgen's expected state. The
# rdapsync binary and every plugin file keep the same checksum, inode and
# modification time from the first run to the last.
#
# It starts nothing: the test runner starts the four servers it needs (scripts/
# test.sh) and exports RDAPSYNC_PG_DSN, RDAPSYNC_MYSQL_*, RDAPSYNC_MONGO_URI,
# RDAPSYNC_REDIS_*.
set -euo pipefail

: "${RDAPSYNC_SOURCE_DIR:?run through ctest (RDAPSYNC_SOURCE_DIR is not set)}"
: "${RDAPSYNC_BINARY_DIR:?run through ctest (RDAPSYNC_BINARY_DIR is not set)}"
: "${RDAPSYNC_BIN:?run through ctest (RDAPSYNC_BIN is not set)}"
: "${RDAPSYNC_PLUGIN_PATH:?run through ctest (RDAPSYNC_PLUGIN_PATH is not set)}"

TEST_NAME=swap_databases
log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

missing=()
for var in RDAPSYNC_PG_DSN RDAPSYNC_MYSQL_HOST RDAPSYNC_MYSQL_PORT RDAPSYNC_MYSQL_USER RDAPSYNC_MYSQL_PASSWORD \
           RDAPSYNC_MYSQL_DB RDAPSYNC_MONGO_URI RDAPSYNC_REDIS_HOST RDAPSYNC_REDIS_PORT RDAPSYNC_REDIS_USER \
           RDAPSYNC_REDIS_PASSWORD RDAPSYNC_REDIS_URL; do
  [[ -n "${!var:-}" ]] || missing+=("$var")
done
if (( ${#missing[@]} )); then
  fail "not set: ${missing[*]}. This test needs all four servers: start them with scripts/servers/all.sh start postgres mariadb ferretdb redis and export what each scripts/servers/<name>.sh env prints (scripts/test.sh does both)"
fi
command -v psql >/dev/null || fail "psql not found (Debian package postgresql-client)"
MYSQL_CLIENT="$(command -v mariadb || command -v mysql || true)"
[[ -n "$MYSQL_CLIENT" ]] || fail "the mariadb client is not installed (Debian package mariadb-client)"
command -v sqlite3 >/dev/null || fail "sqlite3 not found (Debian package sqlite3)"

RDAPGEN="$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen"
CANON="$RDAPSYNC_BINARY_DIR/tests/integration/swap/canon-jsonl"
MONGO_EXPORT="$RDAPSYNC_BINARY_DIR/tests/integration/mongodb/mongo-export"
REDIS_EXPORT="$RDAPSYNC_BINARY_DIR/tests/integration/redis/redis-export"
for tool in "$RDAPGEN" "$CANON" "$MONGO_EXPORT" "$REDIS_EXPORT"; do [[ -x "$tool" ]] || fail "$tool not built"; done
for sink in postgres mysql mongodb sqlite redis; do
  [[ -f "$RDAPSYNC_PLUGIN_PATH/sink-$sink.so" ]] || fail "the $sink sink is not built ($RDAPSYNC_PLUGIN_PATH/sink-$sink.so)"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
RUN_ID="swap_$$"
TABLE="$RUN_ID"
MONGO_DB=rdapsync_test

# ---- the five databases: clean-up and export ----

pgq() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" -c "$1"; }
myq() {
  "$MYSQL_CLIENT" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" -P "$RDAPSYNC_MYSQL_PORT" \
    -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" --default-character-set=utf8mb4 -N -B -r --quick \
    "$RDAPSYNC_MYSQL_DB" -e "$1"
}

drop_all() {
  pgq "DROP TABLE IF EXISTS \"$TABLE\" CASCADE" >/dev/null ||
    fail "PostgreSQL at RDAPSYNC_PG_DSN does not answer (scripts/servers/postgres.sh status)"
  myq "DROP TABLE IF EXISTS \`$TABLE\`" >/dev/null ||
    fail "MariaDB at RDAPSYNC_MYSQL_HOST:RDAPSYNC_MYSQL_PORT does not answer (scripts/servers/mariadb.sh status)"
  "$MONGO_EXPORT" --drop "$RDAPSYNC_MONGO_URI" "$MONGO_DB" "$TABLE" ||
    fail "MongoDB at RDAPSYNC_MONGO_URI does not answer (scripts/servers/ferretdb.sh status)"
  "$REDIS_EXPORT" --drop "$TABLE:" ||
    fail "Redis at RDAPSYNC_REDIS_URL does not answer (scripts/servers/redis.sh status)"
  rm -f "$WORK/swap.db" "$WORK/swap.db-wal" "$WORK/swap.db-shm"
}

cleanup() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then
    (drop_all) || true
    rm -rf "$WORK"
  else
    log "work folder kept: $WORK (tables $TABLE kept for inspection)"
  fi
}
trap cleanup EXIT
cd "$WORK"

# Each prints the live (not deleted) rows as JSON lines {key, ts_ms, origin,
# seq, value}, letting the database build the JSON; canon-jsonl does the rest.
export_postgres() {
  # COPY hands over the bytes as stored; the CSV quote and delimiter are
  # bytes JSON text never contains.
  psql -X -q "$RDAPSYNC_PG_DSN" -c "COPY (SELECT json_build_object('key', key, 'ts_ms', event_time_ms,
      'origin', origin, 'seq', seq, 'value', doc) FROM \"$TABLE\" WHERE NOT deleted)
      TO STDOUT WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
}
export_mysql() {
  myq "SELECT JSON_OBJECT('key', CONVERT(\`key\` USING utf8mb4), 'ts_ms', event_time_ms,
         'origin', CONVERT(origin USING utf8mb4), 'seq', seq, 'value', JSON_EXTRACT(doc, '\$'))
       FROM \`$TABLE\` WHERE NOT deleted"
}
export_mongodb() { "$MONGO_EXPORT" "$RDAPSYNC_MONGO_URI" "$MONGO_DB" "$TABLE"; }
export_redis() { "$REDIS_EXPORT" "$TABLE:"; }
export_sqlite() {
  sqlite3 -readonly swap.db "SELECT json_object('key', key, 'ts_ms', event_time_ms, 'origin', origin,
      'seq', seq, 'value', json(doc)) FROM \"$TABLE\" WHERE NOT deleted"
}

# ---- the sink blocks: the only lines that differ between runs ----

sink_block() {
  case "$1" in
    postgres) cat <<YAML
    sink:
      plugin: postgres
      config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $TABLE }
YAML
      ;;
    mysql) cat <<YAML
    sink:
      plugin: mysql
      config:
        host: "\${env:RDAPSYNC_MYSQL_HOST}"
        port: "\${env:RDAPSYNC_MYSQL_PORT}"
        user: "\${env:RDAPSYNC_MYSQL_USER}"
        password: "\${env:RDAPSYNC_MYSQL_PASSWORD}"
        database: "\${env:RDAPSYNC_MYSQL_DB}"
        table: $TABLE
YAML
      ;;
    mongodb) cat <<YAML
    sink:
      plugin: mongodb
      config: { uri: "\${env:RDAPSYNC_MONGO_URI}", database: $MONGO_DB, collection: $TABLE }
YAML
      ;;
    sqlite) cat <<YAML
    sink:
      plugin: sqlite
      config: { path: swap.db, table: $TABLE }
YAML
      ;;
    redis) cat <<YAML
    sink:
      plugin: redis
      config:
        url: "\${env:RDAPSYNC_REDIS_URL}"
        username: "\${env:RDAPSYNC_REDIS_USER}"
        password: "\${env:RDAPSYNC_REDIS_PASSWORD}"
        prefix: "$TABLE:"
YAML
      ;;
  esac
}

# The pipeline file; `# sink begin` / `# sink end` mark the block swapped.
cat >swap.yaml <<'YAML'
# The same pipeline for every database: only the sink block changes.
state_dir: state
pipelines:
  - name: swap
    source:
      plugin: file
      config: { path: changes.jsonl }
    # sink begin
    # sink end
    batch: { max_records: 1000, max_wait: 100ms }
    errors: { tolerance: none }
YAML

# use_sink NAME: rewrites the block between the markers in place.
use_sink() {
  sink_block "$1" >sink.part
  awk -v part=sink.part '
    /# sink begin/ { print; while ((getline line < part) > 0) print line; skipping = 1; next }
    /# sink end/ { skipping = 0 }
    !skipping { print }' swap.yaml >swap.yaml.new
  mv swap.yaml.new swap.yaml
}
# The file without its sink block: must be the same for every run.
outside_sink() { awk '/# sink begin/ { skipping = 1 } /# sink end/ { skipping = 0; next } !skipping' swap.yaml | sha256sum; }

# What a rebuild would change: content, inode, size and modification time
# of the binary and of every plugin.
fingerprint() {
  local f
  for f in "$RDAPSYNC_BIN" "$RDAPSYNC_PLUGIN_PATH"/*.so; do
    printf '%s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$(stat -L -c '%i %s %Y %n' "$f")"
  done
}

# ---- the changes ----

"$RDAPGEN" --format envelope --classes mixed --count 10000 --keys 3000 --updates 0.3 --deletes 0.08 \
  --duplicates 0.07 --out-of-order 0.15 --origins 3 --size 2048 --seed 2024 --stats \
  --expected expected.jsonl -o changes.jsonl 2>generator.stats
(( $(wc -l <changes.jsonl) == 10000 )) || fail "rdapgen did not write 10,000 changes"
for kind in '"op":"delete"' '"origin":"region-3"'; do
  grep -q "$kind" changes.jsonl || fail "rdapgen gave no $kind"
done
log "generated: $(tr '\n' ' ' <generator.stats)"
"$CANON" expected.jsonl >expected.canon || fail "rdapgen's expected file does not canonicalize"
cmp -s expected.canon expected.jsonl || fail "rdapgen's expected file is not in canonical form"
(( $(wc -l <expected.jsonl) > 1000 )) || fail "the expected state is too small to prove anything"

drop_all
fingerprint >fingerprint.before
outside=""
for sink in postgres mysql mongodb sqlite redis; do
  use_sink "$sink"
  current="$(outside_sink)"
  if [[ -z "$outside" ]]; then
    outside="$current"
  elif [[ "$outside" != "$current" ]]; then
    fail "the pipeline file changed outside its sink block before the $sink run"
  fi
  cp swap.yaml "swap-$sink.yaml"
  rm -rf state
  started=$SECONDS
  if ! "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run swap.yaml >"run-$sink.log" 2>&1; then
    tail -n 20 "run-$sink.log" >&2
    fail "the run with the $sink sink failed"
  fi
  grep -q 'end of input: 10000 records (0 bad)' "run-$sink.log" || fail "the $sink run did not read all 10,000 changes"
  "export_$sink" >"export-$sink.jsonl" || fail "exporting from $sink failed"
  "$CANON" "export-$sink.jsonl" >"canon-$sink.jsonl" || fail "the $sink export does not canonicalize"
  fingerprint >"fingerprint.after-$sink"
  cmp -s fingerprint.before "fingerprint.after-$sink" || {
    diff fingerprint.before "fingerprint.after-$sink" >&2 || true
    fail "the binary or a plugin file changed during the $sink run: something was rebuilt"
  }
  log "$sink: $(wc -l <"canon-$sink.jsonl") live keys in $((SECONDS - started)) s, sha256 $(sha256sum <"canon-$sink.jsonl" | cut -c1-16)"
done

status=0
for sink in postgres mysql mongodb sqlite redis; do
  if ! cmp -s expected.jsonl "canon-$sink.jsonl"; then
    log "$sink differs from rdapgen's expected state:"
    diff <(cut -c1-150 expected.jsonl) <(cut -c1-150 "canon-$sink.jsonl") | head -n 6 >&2 || true
    status=1
  fi
done
(( status == 0 )) || fail "not every database holds the expected state"
sha256sum canon-*.jsonl expected.jsonl | awk '{print $1}' | sort -u | wc -l | grep -qx 1 ||
  fail "the five exports are not byte-identical"
log "PASS: postgres, mysql, mongodb, sqlite and redis exports are byte-identical ($(wc -l <expected.jsonl) live keys, sha256 $(sha256sum <expected.jsonl | cut -c1-16)); binary and $(($(wc -l <fingerprint.before) - 1)) plugins unchanged"
