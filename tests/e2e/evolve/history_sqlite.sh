#!/usr/bin/env bash
# History tables in the SQLite sink: rdapgen's changes (updates, deletes,
# out-of-order versions, duplicates) through file -> sqlite with
# history: { table: ... }. The history table holds every distinct version
# once, with the right valid_to chain and deletes closing intervals
# (history_check.py); an "as of" query gives the document of a past time;
# a kill -9 in the middle and a full replay from scratch (state removed)
# add no duplicate history rows.
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 not found (Debian package sqlite3)"
gen="$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen"
[ -x "$gen" ] || fail "rdapgen is not built at $gen"

"$gen" --format envelope --classes mixed --count 4000 --keys 300 --updates 0.4 --deletes 0.08 --duplicates 0.07 \
  --out-of-order 0.15 --origins 2 --size 1024 --seed 16 -o changes.jsonl
cat >h.yaml <<YAML
state_dir: $work/state
pipelines:
  - name: history
    source: { plugin: file, config: { path: "$work/changes.jsonl" } }
    sink:
      plugin: sqlite
      config:
        path: "$work/db.sqlite"
        table: domains
        history: { table: domains_history }
    batch: { max_records: 100, max_wait: 50ms }
YAML
"$RDAPSYNC_BIN" validate h.yaml

note "kill -9 while it writes, then run to the end"
"$RDAPSYNC_BIN" run h.yaml >kill.log 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  rows=$(sqlite3 db.sqlite "SELECT count(*) FROM domains_history" 2>/dev/null || echo 0)
  [ "${rows:-0}" -gt 0 ] && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
note "killed after $(sqlite3 db.sqlite 'SELECT count(*) FROM domains_history' 2>/dev/null || echo 0) history rows"
run h.yaml run1.log

export_history() {
  sqlite3 -separator $'\t' -nullvalue NULL db.sqlite \
    "SELECT key, valid_from, origin, seq, valid_to, deleted, doc FROM domains_history" >"$1"
}
export_history export1.tsv
python3 "$here/history_check.py" changes.jsonl export1.tsv

note "a replay of everything (state removed) adds no history row"
rm -rf "$work/state"
run h.yaml run2.log
export_history export2.tsv
cmp -s <(sort export1.tsv) <(sort export2.tsv) || fail "the replay changed the history table"
python3 "$here/history_check.py" changes.jsonl export2.tsv

note "as of: the version valid at a past time is the live row's ancestor"
key=$(sqlite3 db.sqlite "SELECT key FROM domains_history GROUP BY key HAVING count(*) > 2 LIMIT 1")
[ -n "$key" ] || fail "no key with three versions"
t=$(sqlite3 db.sqlite "SELECT valid_from + 1 FROM domains_history WHERE key = '$key' AND NOT deleted
                       ORDER BY valid_from, origin, seq LIMIT 1")
asof=$(sqlite3 db.sqlite "SELECT count(*) FROM domains_history WHERE key = '$key' AND valid_from <= $t
                          AND (valid_to IS NULL OR valid_to > $t) AND NOT deleted")
[ "$asof" -ge 1 ] || fail "the as-of query found no version of $key at $t"
live=$(sqlite3 db.sqlite "SELECT count(*) FROM domains_history h JOIN domains d USING (key)
                          WHERE h.valid_to IS NULL AND h.valid_from = d.event_time_ms AND h.origin = d.origin
                          AND h.seq = d.seq")
keys=$(sqlite3 db.sqlite "SELECT count(*) FROM domains")
[ "$live" -eq "$keys" ] || fail "only $live of $keys live rows are the current version of their history"
note "validate refuses a history table in append mode, or the data table itself, at its place"
cat >bad.yaml <<YAML
pipelines:
  - name: append
    source: { plugin: file, config: { path: "$work/changes.jsonl" } }
    sink:
      plugin: sqlite
      config:
        path: "$work/x.sqlite"
        mode: append
        history: { table: h }
  - name: same
    source: { plugin: file, config: { path: "$work/changes.jsonl" } }
    sink:
      plugin: sqlite
      config: { path: "$work/x.sqlite", table: t, history: { table: T } }
YAML
status=0
"$RDAPSYNC_BIN" validate bad.yaml >bad.out 2>&1 || status=$?
cat bad.out
[ "$status" -ne 0 ] || fail "validate accepted a bad history option"
grep -qF "bad.yaml:9:18: error: pipeline 'append': sink 'sqlite': invalid configuration: history needs mode upsert" bad.out ||
  fail "no positioned error for history in append mode"
grep -qF "bad.yaml:14:95: error: pipeline 'same': sink 'sqlite': invalid configuration: the history table must differ" bad.out ||
  fail "no positioned error for history on the data table"
echo "PASS history_sqlite"
