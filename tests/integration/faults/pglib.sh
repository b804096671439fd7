# PostgreSQL helpers of the fault tests (after lib.sh). The server is the
# project's (scripts/servers/postgres.sh); RDAPSYNC_PG_DSN must be set (the
# test fails without it: CI always starts the server).
[[ -n "${RDAPSYNC_PG_DSN:-}" ]] \
  || fail "RDAPSYNC_PG_DSN is not set: scripts/servers/postgres.sh start, then eval \"\$(scripts/servers/postgres.sh env)\""
command -v psql >/dev/null || fail "psql not found (Debian package postgresql-client)"

RUN_ID="$(printf '%s_%s' "$TEST_NAME" "$$" | tr -c 'a-z0-9_\n' '_')"
# The sink connects with a password from ${env:...}: a secret the logs must
# never show (the server trusts 127.0.0.1 and ignores it).
export FAULTS_PG_DSN="$RDAPSYNC_PG_DSN password=$RDAPSYNC_FAULTS_SECRET application_name=rdapsync_$RUN_ID"

pgq() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" -c "$1"; }

# load_expected FILE TABLE: rdapgen's --expected file as (key, ts_ms, origin, seq, value).
load_expected() {
  pgq "DROP TABLE IF EXISTS ${2}_raw, $2"
  pgq "CREATE TABLE ${2}_raw (line jsonb)"
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$RDAPSYNC_PG_DSN" \
    -c "\\copy ${2}_raw (line) FROM '$1' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
  pgq "CREATE TABLE $2 AS SELECT line->>'key' AS key, (line->>'ts_ms')::bigint AS ts_ms,
         coalesce(line->>'origin', '') AS origin, (line->>'seq')::bigint AS seq, line->'value' AS value FROM ${2}_raw"
  pgq "CREATE UNIQUE INDEX ON $2 (key)"
}

# differences SINK_TABLE EXPECTED_TABLE: keys whose live row (document and
# version) is not the expected one, either way.
differences() {
  pgq "SELECT count(*) FROM (SELECT * FROM $1 WHERE NOT deleted) s FULL JOIN $2 e ON s.key = e.key
        WHERE s.key IS NULL OR e.key IS NULL OR s.doc IS DISTINCT FROM e.value
           OR s.event_time_ms IS DISTINCT FROM e.ts_ms OR s.origin IS DISTINCT FROM e.origin
           OR s.seq IS DISTINCT FROM e.seq"
}

# invented SINK_TABLE EXPECTED_TABLE: rows whose version is newer than the
# final one of their key, or keys the input never had (never allowed, even
# mid-run).
invented() {
  pgq "SELECT count(*) FROM $1 s LEFT JOIN ${2}_all a ON s.key = a.key
        WHERE a.key IS NULL OR (s.event_time_ms, s.origin COLLATE \"C\", s.seq) > (a.ts_ms, a.origin COLLATE \"C\", a.seq)"
}

# all_versions INPUT TABLE: the greatest version of every key of the input
# (deleted or not), for invented().
load_all_versions() {
  python3 - "$1" >all_versions.csv <<'PY'
import csv, json, sys
best = {}
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    v = (e["ts_ms"], (e.get("origin") or "").encode(), e["seq"])
    if e["key"] not in best or v > best[e["key"]]:
        best[e["key"]] = v
w = csv.writer(sys.stdout)
for k, (ts, origin, seq) in best.items():
    w.writerow([k, ts, origin.decode(), seq])
PY
  pgq "DROP TABLE IF EXISTS ${2}_all"
  pgq "CREATE TABLE ${2}_all (key text PRIMARY KEY, ts_ms bigint, origin text, seq bigint)"
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$RDAPSYNC_PG_DSN" \
    -c "\\copy ${2}_all FROM 'all_versions.csv' WITH (FORMAT csv)"
}

# track_applied TABLE: a trigger logs every row version the sink applies,
# so that a version applied twice (a duplicate the guard let through) shows.
track_applied() {
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$RDAPSYNC_PG_DSN" <<SQL
CREATE TABLE ${1}_applied (key text, event_time_ms bigint, origin text, seq bigint, deleted boolean);
CREATE FUNCTION ${1}_log() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO ${1}_applied VALUES (NEW.key, NEW.event_time_ms, NEW.origin, NEW.seq, NEW.deleted);
  RETURN NULL;
END \$\$;
CREATE TRIGGER ${1}_applied AFTER INSERT OR UPDATE ON $1 FOR EACH ROW EXECUTE FUNCTION ${1}_log();
SQL
}

applied_twice() {
  pgq "SELECT count(*) FROM (SELECT 1 FROM ${1}_applied GROUP BY key, event_time_ms, origin, seq, deleted
        HAVING count(*) > 1) d"
}

drop_pg() {
  local t
  for t in "$@"; do pgq "DROP TABLE IF EXISTS $t CASCADE" >/dev/null 2>&1 || true; done
  pgq "DROP FUNCTION IF EXISTS ${1}_log() CASCADE" >/dev/null 2>&1 || true
}

# create_sink_table CONFIG: one run over an empty input, so that the sink
# creates its table the way it always does before a trigger is added.
create_sink_table() {
  local empty_cfg="$1"
  "$RDAPSYNC_BIN" run "$empty_cfg" >>create.log 2>&1 || fail "the sink could not create its table (create.log)"
}
