#!/usr/bin/env bash
# The direct path (LOAD DATA LOCAL INFILE ... IGNORE, method auto and load)
# stores exactly what the statements (method insert, the default) store,
# and falls back to them when it must:
#   - same rows: rdapgen's changes (updates, deletes, out-of-order versions)
#     through each method into its own table: every column but updated_at
#     equal, byte for byte; new keys only (with tabs, newlines and
#     backslashes in the documents): every batch lands by LOAD DATA alone;
#   - keys already held: batches mixing new keys with keys the table holds
#     at newer versions end converged, the stale versions kept out;
#   - damaged values: a key or origin too long for its column (which IGNORE
#     would store cut) or a row the user's CHECK refuses, under method load
#     (LOAD DATA tried for every batch): exactly those rows reach the
#     dead-letter sink with the server's message, nothing cut is stored;
#   - local_infile=OFF on the server: method auto logs one line and stores
#     everything with statements; method load fails the task, saying why.
# The last case switches a global server variable for a moment: other tests
# running at the same time then use statements, which changes no result.
TEST_NAME=mysql_load_fallbacks
. "$(dirname "$0")/lib.sh"

create_database
CLEANUPS+=("drop_database")
# The server's statement counters (global: other tests may add to them, never take away).
server_count() { myq "SHOW GLOBAL STATUS LIKE '$1'" | cut -f2; }
load_count() { server_count Com_load; }

# pipeline NAME INPUT TABLE MAX_RECORDS TOLERANCE [EXTRA SINK OPTIONS]: runs it, sets $status.
# RESTART, if set, is the pipeline's restart policy.
pipeline() {
  cat >"$1.yaml" <<YAML
state_dir: $WORK/state-$1
log: { level: debug }
pipelines:
  - name: $1
    source: { plugin: file, config: { path: "$2" } }
    sink:
      plugin: mysql
      config: { $(sink_options), table: $3${6:+, $6} }
    batch: { max_records: $4, max_wait: 50ms }${RESTART:+
    restart: $RESTART}
    errors:
      tolerance: $5
      dead_letter: { plugin: file, config: { path: "$WORK/dead-$1.jsonl" } }
YAML
  rdapsync_run "$1.yaml" "$1.log"
}
must_run() {
  pipeline "$@"
  [[ "$status" -eq 0 ]] || { tail -n 20 "$1.log" >&2; fail "run $1 exited $status"; }
}
# every_column TABLE: all stored columns but updated_at, in key order, hex where binary.
every_column() {
  myq "SELECT HEX(\`key\`), MD5(doc), deleted, event_time_ms, HEX(origin), seq, src_stream, src_partition, src_offset
       FROM \`$1\` ORDER BY \`key\`" "$SINK_DB"
}

# ---- the same rows through each method
changes 4000 1500 11 changes.jsonl expected.jsonl
must_run same-insert "$WORK/changes.jsonl" same_insert 500 none "method: insert"
before="$(load_count)"
must_run same-auto "$WORK/changes.jsonl" same_auto 500 none "method: auto"
(($(load_count) > before)) || fail "method auto never sent LOAD DATA"
must_run same-load "$WORK/changes.jsonl" same_load 500 none "method: load"
for t in same_insert same_auto same_load; do assert_state "$t" expected.jsonl "method ${t#same_}"; done
every_column same_insert >insert.tsv
every_column same_auto >auto.tsv
every_column same_load >load.tsv
cmp -s insert.tsv auto.tsv || fail "method auto stored other values than method insert"
cmp -s insert.tsv load.tsv || fail "method load stored other values than method insert"
[[ "$(myq "SELECT count(*) FROM same_auto WHERE deleted" "$SINK_DB")" -gt 0 ]] || fail "no tombstones: deletes not exercised"
log "the three methods stored the same $(wc -l <insert.tsv) rows"

# ---- new keys only: every batch lands through LOAD DATA alone
python3 - >fresh.jsonl 3>fresh-expected.jsonl <<'PY'
import json, os
expected = os.fdopen(3, "w")
for i in range(3000):
    key = "f%04d.example" % i
    value = {"objectClassName": "domain", "handle": key, "ldhName": key, "remarks": [{"description": ["tab\there", "back\\slash", "new\nline"]}]}
    print(json.dumps({"key": key, "op": "upsert", "ts_ms": 5, "origin": "eu", "seq": i, "value": value}))
    expected.write(json.dumps({"key": key, "ts_ms": 5, "origin": "eu", "seq": i, "value": value}) + "\n")
PY
must_run fresh "$WORK/fresh.jsonl" fresh 500 none "method: auto"
assert_state fresh fresh-expected.jsonl "new keys in six batches"
! grep -q 'goes through INSERT statements' fresh.log || { grep 'LOAD DATA' fresh.log >&2; fail "a batch of new keys fell back to statements"; }

# ---- keys the table already holds, mixed with new ones in every batch
python3 - >first.jsonl 3>second.jsonl 4>mixed-expected.jsonl <<'PY'
import json, os
def env(key, ts, origin, name, seq=0):
    return json.dumps({"key": key, "op": "upsert", "ts_ms": ts, "origin": origin, "seq": seq,
                       "value": {"objectClassName": "domain", "handle": key, "ldhName": name}})
second, expected_out, expected = os.fdopen(3, "w"), os.fdopen(4, "w"), []
for i in range(1000):
    key = "m%04d.example" % i
    if i % 2 == 0:   # stored first at a newer version; the older one comes later
        print(env(key, 200, "eu", "new-" + key))
        second.write(env(key, 100, "eu", "old-" + key) + "\n")
        expected.append({"key": key, "ts_ms": 200, "origin": "eu", "seq": 0,
                         "value": {"objectClassName": "domain", "handle": key, "ldhName": "new-" + key}})
    elif i % 4 == 1:  # a key the table does not hold yet
        second.write(env(key, 100, "eu", "old-" + key) + "\n")
        expected.append({"key": key, "ts_ms": 100, "origin": "eu", "seq": 0,
                         "value": {"objectClassName": "domain", "handle": key, "ldhName": "old-" + key}})
    else:             # stored first at an older version; the newer one comes later
        print(env(key, 100, "us", "old-" + key))
        second.write(env(key, 300, "us", "newest-" + key) + "\n")
        expected.append({"key": key, "ts_ms": 300, "origin": "us", "seq": 0,
                         "value": {"objectClassName": "domain", "handle": key, "ldhName": "newest-" + key}})
for e in expected:
    expected_out.write(json.dumps(e) + "\n")
PY
must_run mixed-first "$WORK/first.jsonl" mixed 100 none "method: auto"
loads="$(load_count)" inserts="$(server_count Com_insert)"
must_run mixed-second "$WORK/second.jsonl" mixed 100 none "method: auto"
(($(load_count) > loads && $(server_count Com_insert) > inserts)) ||
  fail "batches over held keys did not go through LOAD DATA, then through statements"
assert_state mixed mixed-expected.jsonl "batches mixing held and new keys"
must_run mixed-load "$WORK/second.jsonl" mixed 100 none "method: load"
assert_state mixed mixed-expected.jsonl "the same again with method load"
[[ "$(myq "SELECT count(*) FROM mixed WHERE JSON_VALUE(doc, '\$.ldhName') LIKE 'old-%' AND event_time_ms <> 100" "$SINK_DB")" == 0 ]] ||
  fail "a stale version overwrote a newer one"

# ---- values LOAD DATA IGNORE would store damaged, and a CHECK of the user's
myq "CREATE TABLE checked (
       \`key\` VARBINARY(3072) NOT NULL PRIMARY KEY, doc JSON NULL, deleted BOOLEAN NOT NULL DEFAULT FALSE,
       event_time_ms BIGINT NOT NULL, origin VARBINARY(255) NOT NULL DEFAULT '', seq BIGINT NOT NULL,
       src_stream TEXT CHARACTER SET utf8mb4 NULL, src_partition INT NULL, src_offset BIGINT NULL,
       updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       CONSTRAINT no_evil CHECK (JSON_VALUE(doc, '\$.ldhName') NOT LIKE 'evil%'))" "$SINK_DB"
python3 - >bad.jsonl 3>bad-expected.jsonl <<'PY'
import json, os
def env(key, ts, origin, name):
    return {"key": key, "op": "upsert", "ts_ms": ts, "origin": origin, "seq": 0,
            "value": {"objectClassName": "domain", "handle": key[:40], "ldhName": name}}
expected = os.fdopen(3, "w")
for i in range(600):
    key = "b%04d.example" % i
    e = env(key, 10, "eu", key)
    if i % 100 == 10:
        e["key"] = "k" * 3100 + str(i)
    elif i % 100 == 20:
        e["origin"] = "o" * 300
    elif i % 100 == 30:
        e["value"]["ldhName"] = "evil%d.example" % i
    else:
        expected.write(json.dumps({"key": e["key"], "ts_ms": 10, "origin": "eu", "seq": 0, "value": e["value"]}) + "\n")
    print(json.dumps(e))
PY
undone="$(server_count Com_rollback_to_savepoint)"
must_run damaged "$WORK/bad.jsonl" checked 100 all "create_table: false, method: load"
(($(server_count Com_rollback_to_savepoint) >= undone + 6)) || fail "LOAD DATA with damaged values was not rolled back"
python3 - dead-damaged.jsonl <<'PY' || fail "the dead letters are not the refused rows with the server's messages"
import json, sys
want = {"Data too long for column 'key'": 6, "Data too long for column 'origin'": 6, "CONSTRAINT `no_evil` failed": 6}
got = {}
for line in open(sys.argv[1], encoding="utf-8"):
    reason = json.loads(line).get("error") or ""
    match = [m for m in want if m in reason and "mysql refused the record" in reason]
    if not match:
        sys.exit("unexpected dead letter: %s" % reason[:300])
    got[match[0]] = got.get(match[0], 0) + 1
if got != want:
    sys.exit("dead letters by reason %s, expected %s" % (got, want))
PY
assert_state checked bad-expected.jsonl "refused rows under method load"
[[ "$(myq "SELECT count(*) FROM checked WHERE LENGTH(\`key\`) >= 3072 OR LENGTH(origin) >= 255" "$SINK_DB")" == 0 ]] ||
  fail "a value cut by LOAD DATA IGNORE was stored"

# ---- the server refuses LOCAL INFILE
myq "SET GLOBAL local_infile = 0"
CLEANUPS+=("myq 'SET GLOBAL local_infile = 1'")
must_run refused-auto "$WORK/changes.jsonl" refused 500 none "method: auto"
assert_state refused expected.jsonl "local_infile=OFF, method auto"
[[ "$(grep -c 'LOAD DATA LOCAL INFILE is refused' refused-auto.log)" == 1 ]] ||
  { cat refused-auto.log >&2; fail "method auto did not say once that it falls back to statements"; }
RESTART="{ max_failures: 1 }" pipeline refused-load "$WORK/changes.jsonl" refused_load 500 none "method: load"
[[ "$status" -ne 0 ]] || fail "method load ran without LOCAL INFILE"
grep -q 'method: load needs LOAD DATA LOCAL INFILE' refused-load.log ||
  { tail -n 20 refused-load.log >&2; fail "method load failed without saying why"; }
myq "SET GLOBAL local_infile = 1"
log "PASS"
