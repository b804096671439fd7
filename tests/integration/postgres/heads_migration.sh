#!/usr/bin/env bash
# A table written by a release that kept the register in <table>_heads is
# moved into the data table's heads column when the sink opens it: every
# key keeps its heads byte for byte, a key whose row an erasure had deleted
# (heads and no row) becomes a tombstone holding them, the old table is
# dropped, and the register goes on from what it saw: a replayed old
# version of the erased key stays out, a newer version of another key
# replaces its head.
TEST_NAME=postgres_heads_migration
. "$(dirname "$0")/lib.sh"

TABLE="hm_$RUN_ID"
CLEAN() { pgq "DROP VIEW IF EXISTS ${TABLE}_live, ${TABLE}_h_live; DROP TABLE IF EXISTS $TABLE, ${TABLE}_heads, ${TABLE}_conflicts, ${TABLE}_h, ${TABLE}_h_conflicts" >/dev/null 2>&1 || true; }
trap 'rc=$?; if [[ $rc -eq 0 ]]; then CLEAN; fi; (exit $rc); cleanup_work' EXIT
CLEAN

line() { # key ts origin seq vv value
  printf '{"key":"%s","op":"upsert","ts_ms":%s,"origin":"%s","seq":%s,"vv":%s,"value":%s}\n' "$@"
}
config() { # input
  cat >"$1.yaml" <<YAML
state_dir: state-$1
pipelines:
  - name: migrate
    source: { plugin: file, config: { path: "$WORK/$1.jsonl" } }
    sink: { plugin: postgres, config: { dsn: "\${env:SINK_DSN}", table: $TABLE, conflicts: { strategy: lww } } }
YAML
}
{
  line k1 1000 eu 1 '{"eu":1}' '{"v":"k1-eu1"}'
  line k2 1000 eu 2 '{"eu":1}' '{"v":"k2-eu1"}'
  line k2 2000 us 3 '{"us":1}' '{"v":"k2-us1"}'
  line k3 1000 eu 4 '{"eu":1}' '{"v":"k3-eu1"}'
} >first.jsonl
config first
rdapsync_run first.yaml first.log || { tail -20 first.log >&2; fail "the first run failed"; }

# The earlier release's layout, with the same stored texts: the heads in a
# table of their own, and k3's row deleted by an erasure that kept them.
pgs <<SQL
CREATE TABLE ${TABLE}_heads (key text PRIMARY KEY, heads text NOT NULL);
INSERT INTO ${TABLE}_heads SELECT key, heads FROM $TABLE WHERE heads IS NOT NULL;
ALTER TABLE $TABLE DROP COLUMN heads;
DELETE FROM $TABLE WHERE key = 'k3';
SQL
pgq "SELECT key || ' ' || heads FROM ${TABLE}_heads ORDER BY key" >heads.before
(( $(wc -l <heads.before) == 3 )) || fail "the legacy heads table should hold three keys: $(cat heads.before)"
grep -q '^k2 .*k2-eu1.*k2-us1\|^k2 .*k2-us1.*k2-eu1' heads.before || fail "k2 should have two heads: $(cat heads.before)"

{
  line k3 1000 eu 4 '{"eu":1}' '{"v":"k3-eu1"}'
  line k1 3000 eu 5 '{"eu":2}' '{"v":"k1-eu2"}'
} >second.jsonl
config second
rdapsync_run second.yaml second.log || { tail -20 second.log >&2; fail "the second run failed"; }
grep -q "moved the heads of" second.log || { cat second.log >&2; fail "the move is not in the log"; }

[[ "$(pgq "SELECT to_regclass('${TABLE}_heads') IS NULL")" == t ]] || fail "the legacy heads table is still there"
pgq "SELECT key || ' ' || heads FROM $TABLE WHERE heads IS NOT NULL AND key <> 'k1' ORDER BY key" >heads.after
diff <(grep -v '^k1 ' heads.before) heads.after >&2 || fail "k2's or k3's heads changed in the move"
[[ "$(pgq "SELECT deleted::text || ' ' || (doc IS NULL)::text FROM $TABLE WHERE key = 'k3'")" == "true true" ]] ||
  fail "k3 should be a tombstone holding its heads"
[[ "$(pgq "SELECT count(*) FROM ${TABLE}_live WHERE key = 'k3'")" == 0 ]] ||
  fail "the replayed old version of the erased key came back"
[[ "$(pgq "SELECT doc->>'v' FROM ${TABLE}_live WHERE key = 'k1'")" == k1-eu2 ]] || fail "k1's newer version is not shown"
pgq "SELECT heads FROM $TABLE WHERE key = 'k1'" | grep -q '"eu":2' || fail "k1's head is not the newer version"
pgq "SELECT heads FROM $TABLE WHERE key = 'k1'" | grep -q '"eu":1' && fail "k1 kept the head its newer version dominates"
[[ "$(pgq "SELECT string_agg(key, ' ' ORDER BY key) FROM ${TABLE}_conflicts WHERE resolved_at IS NULL")" == k2 ]] ||
  fail "the conflict log should hold k2 open"
log "the heads moved into the column; the register goes on from them"

# A table made without the column (create_table: false) is refused at
# open, naming the column, before anything is read.
pgq "CREATE TABLE ${TABLE}_h (key text PRIMARY KEY, doc jsonb, deleted boolean NOT NULL DEFAULT false, event_time_ms bigint NOT NULL, origin text COLLATE \"C\" NOT NULL DEFAULT '', seq bigint NOT NULL, src_stream text, src_partition integer, src_offset bigint, updated_at timestamptz NOT NULL DEFAULT now()); CREATE TABLE ${TABLE}_h_conflicts (key text PRIMARY KEY, heads jsonb NOT NULL, strategy text NOT NULL, detected_at timestamptz NOT NULL DEFAULT now(), resolved_at timestamptz)"
cat >hand.yaml <<YAML
state_dir: state-hand
pipelines:
  - name: hand
    source: { plugin: file, config: { path: "$WORK/second.jsonl" } }
    sink: { plugin: postgres, config: { dsn: "\${env:SINK_DSN}", table: ${TABLE}_h, create_table: false, conflicts: { strategy: lww } } }
YAML
if rdapsync_run hand.yaml hand.log; then fail "a table without the heads column was taken"; fi
grep -q "needs a heads text column" hand.log || { cat hand.log >&2; fail "the refusal does not name the column"; }
[[ "$(pgq "SELECT count(*) FROM ${TABLE}_h")" == 0 ]] || fail "rows were written into the table without the column"
log "PASS"
