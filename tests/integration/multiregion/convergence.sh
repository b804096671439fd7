#!/usr/bin/env bash
# Multi-region convergence: three regions' streams with version vectors
# (rdapgen --regions 3), each replica (SQLite, PostgreSQL, MariaDB, FerretDB, Redis) receiving all three in
# its own random order with 10% duplicates, under each conflict strategy,
# with several kill -9s of rdapsync on the way. At the end every replica of
# a strategy shows byte-identical visible documents (canonical dump) equal
# to rdapgen's expected ones for that strategy, the heads
# tables are byte-identical across replicas (a lone head compared without
# its document, which a sink that loads rows does not store twice), and every conflict log lists
# exactly the keys left with concurrent heads: none missed, none spurious.
source "$RDAPSYNC_SOURCE_DIR/tests/integration/postgres/lib.sh"

for var in RDAPSYNC_MYSQL_HOST RDAPSYNC_MYSQL_PORT RDAPSYNC_MYSQL_USER RDAPSYNC_MYSQL_PASSWORD; do
  [[ -n "${!var:-}" ]] || fail "$var is not set: start scripts/servers/mariadb.sh and export its env"
done
MYSQL_CLIENT="$(command -v mariadb || command -v mysql || true)"
[[ -n "$MYSQL_CLIENT" ]] || fail "the mariadb client is not installed (Debian package mariadb-client)"
SINK_DB="rdapsync_$RUN_ID"
export SINK_DB
[[ -n "${RDAPSYNC_MONGO_URI:-}" ]] || fail "RDAPSYNC_MONGO_URI is not set: start scripts/servers/ferretdb.sh and export its env"
MONGO_EXPORT="$RDAPSYNC_BINARY_DIR/tests/integration/mongodb/mongo-export"
[[ -x $MONGO_EXPORT ]] || fail "mongo-export is not built"
MONGO_DB="mr_$RUN_ID"
[[ -n "${RDAPSYNC_REDIS_URL:-}" ]] || fail "RDAPSYNC_REDIS_URL is not set: start scripts/servers/redis.sh and export its env"
# redis-cli reading commands from stdin, one reply a line (--raw).
rcli() {
  REDISCLI_AUTH="$RDAPSYNC_REDIS_PASSWORD" redis-cli --no-auth-warning -h "$RDAPSYNC_REDIS_HOST" \
    -p "$RDAPSYNC_REDIS_PORT" --user "$RDAPSYNC_REDIS_USER" --raw
}

myq() {
  "$MYSQL_CLIENT" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" -P "$RDAPSYNC_MYSQL_PORT" \
    -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" --default-character-set=utf8mb4 -N -B -r --quick \
    ${2:+"$2"} -e "$1"
}
myq "DROP DATABASE IF EXISTS \`$SINK_DB\`; CREATE DATABASE \`$SINK_DB\` CHARACTER SET utf8mb4"
drop_mysql() {
  myq "DROP DATABASE IF EXISTS \`$SINK_DB\`" >/dev/null 2>&1 || true
  local s
  rcli <<<"EVAL \"for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end\" 0 mr_${RUN_ID}_*" \
    >/dev/null 2>&1 || true
  for s in lww region_priority merge manual; do
    for c in "" _heads _conflicts; do
      "$MONGO_EXPORT" --drop "$RDAPSYNC_MONGO_URI" "$MONGO_DB" "mr_${RUN_ID}_$s$c" >/dev/null 2>&1 || true
    done
  done
}
# The work folder's own cleanup (lib.sh) reads the exit status: keep it.
trap 'rc=$?; drop_mysql; (exit $rc); cleanup_work' EXIT

rg() { python3 "$RDAPSYNC_SOURCE_DIR/tests/integration/multiregion/regions.py" "$@"; }
strategies=(lww region-priority merge manual)
replicas=(sqlite postgres mariadb ferretdb redis)
priority="[region-3, region-1]"

"$(rdapgen_bin)" --format envelope --regions 3 --conflict-rate 0.3 --count "${MR_WRITES:-3000}" --keys 300 \
  --size 1024 --seed 15 --priority region-3,region-1 -o streams
rg open-keys streams >open.expected
(( $(wc -l <open.expected) > 0 )) || fail "the streams left no key in conflict: nothing is tested"

table_of() { printf 'mr_%s_%s' "$RUN_ID" "${1//-/_}"; }
conflicts_block() {
  if [[ $1 == region-priority ]]; then
    printf '{ strategy: %s, regions: %s }' "$1" "$priority"
  else
    printf '{ strategy: %s }' "$1"
  fi
}

seed=100
{
  echo "state_dir: $WORK/state"
  echo "pipelines:"
  for s in "${strategies[@]}"; do
    for sink in "${replicas[@]}"; do
      seed=$((seed + 1))
      rg replica streams "$seed" "in-$sink-$s.jsonl"
      case $sink in
        sqlite) block="{ plugin: sqlite, config: { path: \"$WORK/out/$s.db\", table: rdap, conflicts: $(conflicts_block "$s") } }" ;;
        postgres) block="{ plugin: postgres, config: { dsn: \"\${env:SINK_DSN}\", table: $(table_of "$s"), exactly_once: true, conflicts: $(conflicts_block "$s") } }" ;;
        ferretdb) block="{ plugin: mongodb, config: { uri: \"\${env:RDAPSYNC_MONGO_URI}\", database: $MONGO_DB, collection: $(table_of "$s"), conflicts: $(conflicts_block "$s") } }" ;;
        redis) block="{ plugin: redis, config: { url: \"\${env:RDAPSYNC_REDIS_URL}\", username: \"\${env:RDAPSYNC_REDIS_USER}\", password: \"\${env:RDAPSYNC_REDIS_PASSWORD}\", prefix: \"$(table_of "$s"):\", conflicts: $(conflicts_block "$s") } }" ;;
        mariadb) block="{ plugin: mysql, config: { host: \"\${env:RDAPSYNC_MYSQL_HOST}\", port: \"\${env:RDAPSYNC_MYSQL_PORT}\", user: \"\${env:RDAPSYNC_MYSQL_USER}\", password: \"\${env:RDAPSYNC_MYSQL_PASSWORD}\", database: \"\${env:SINK_DB}\", table: $(table_of "$s"), exactly_once: true, conflicts: $(conflicts_block "$s") } }" ;;
      esac
      cat <<YAML
  - name: $sink-$s
    source: { plugin: file, config: { path: "$WORK/in-$sink-$s.jsonl" } }
    sink: $block
    batch: { max_records: 40, max_wait: 20ms }
    errors: { tolerance: none }
YAML
    done
  done
} >mr.yaml
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" validate mr.yaml >/dev/null || fail "validate refused mr.yaml"

kills=0
for attempt in $(seq 1 40); do
  (( kills < ${MR_KILLS:-4} )) || break
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run mr.yaml >>kills.log 2>&1 &
  pid=$!
  sleep "0.$(( 2 + RANDOM % 6 ))"
  if kill -9 "$pid" 2>/dev/null; then
    kills=$((kills + 1))
    log "kill $kills"
  fi
  status=0
  wait "$pid" 2>/dev/null || status=$?
  (( status == 0 || status == 137 )) || { tail -20 kills.log >&2; fail "a run exited $status before its kill"; }
done
(( kills >= 2 )) || fail "only $kills kills landed"
rdapsync_run mr.yaml final.log || { tail -30 final.log >&2; fail "the run after the kills failed"; }

sqlite_rows() { python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}

# sql KIND: the query of KIND on the data table @.
sql() {
  case $1 in
    docs) echo "SELECT key, deleted, doc FROM @" ;;
    heads) echo "SELECT key, heads FROM @_heads" ;;
    open) echo "SELECT key FROM @_conflicts WHERE resolved_at IS NULL" ;;
    resolved) echo "SELECT count(*) FROM @_conflicts WHERE resolved_at IS NOT NULL" ;;
  esac
}
# rows REPLICA STRATEGY KIND: KIND's rows on that replica, "|" between columns.
rows() {
  local t q; t=$(table_of "$2"); q=$(sql "$3")
  case $1 in
    sqlite) sqlite_rows "out/$2.db" "${q//@/rdap}" ;;
    postgres) # the heads are a column of the data table
      [[ $3 == heads ]] && q="SELECT key, heads FROM @ WHERE heads IS NOT NULL"
      pgq "${q//@/$t}" ;;
    mariadb) q=${q//@/$t}; myq "${q//key/\`key\`}" "$SINK_DB" | tr '\t' '|' ;;
    ferretdb)
      local c=${t}_conflicts
      [[ $3 == docs ]] && c=$t
      [[ $3 == heads ]] && c=${t}_heads
      "$MONGO_EXPORT" --raw "$RDAPSYNC_MONGO_URI" "$MONGO_DB" "$c" | rg mongo-rows "$3" ;;
    redis) rg expected-keys streams | rg redis-query "$t:" "$3" | rcli | rg redis-rows "$3" streams ;;
  esac
}

for s in "${strategies[@]}"; do
  rg expect streams "$s" >"expected-$s.tsv"
  for r in "${replicas[@]}"; do
    rows "$r" "$s" docs | rg canon >"$r-$s.tsv"
    cmp -s "expected-$s.tsv" "$r-$s.tsv" || { diff "expected-$s.tsv" "$r-$s.tsv" | head >&2; fail "$s/$r: the visible documents are not the heads'"; }
    rows "$r" "$s" heads | rg lone-heads | LC_ALL=C sort >"heads-$r-$s.txt"
    cmp -s "heads-${replicas[0]}-$s.txt" "heads-$r-$s.txt" || fail "$s: the heads of $r differ from ${replicas[0]}'s"
    rows "$r" "$s" open | LC_ALL=C sort >"open-$r-$s.txt"
    missed=$(comm -23 open.expected "open-$r-$s.txt" | wc -l)
    spurious=$(comm -13 open.expected "open-$r-$s.txt" | wc -l)
    (( missed == 0 && spurious == 0 )) || fail "$s/$r conflict log: $missed missed, $spurious spurious"
    resolved=$(rows "$r" "$s" resolved)
    (( resolved > 0 )) || fail "$s/$r: no conflict was resolved: resolution is not exercised"
  done
  for r in "${replicas[@]}"; do
    cmp -s "${replicas[0]}-$s.tsv" "$r-$s.tsv" || fail "$s: $r differs from ${replicas[0]}"
  done
  log "$s: $(wc -l <"expected-$s.tsv") keys byte-identical on ${replicas[*]}, $(wc -l <open.expected) open conflicts, $resolved resolved"
  pgq "DROP TABLE $(table_of "$s"), $(table_of "$s")_conflicts CASCADE" >/dev/null
done
pgq "DELETE FROM rdapsync_positions WHERE pipeline LIKE 'postgres-%'" >/dev/null || true
echo "PASS multiregion convergence ($kills kills)"
