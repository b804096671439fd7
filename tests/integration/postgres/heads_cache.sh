#!/usr/bin/env bash
# The register's heads cache and epoch (conflicts: {...}): a running sink
# does not read again the heads of a key it wrote while nobody else wrote
# the table, and it reads them again, keeping the other writer's head,
# once another rdapsync has written a version of the same key.
#
#  1. A (file source, follow) writes k1 and k2 at {"a":1}.
#  2. The heads of k1 are cleared behind rdapsync's back (no epoch taken),
#     and A gets k1 at {"a":1} again: A's cache still knows the head, so
#     the duplicate is stale and the cleared column stays cleared. (A sink
#     that read the heads would write them back.)
#  3. B, another rdapsync, writes k2 at {"b":1}, concurrent with A's head.
#  4. A gets k2 at {"a":2}: it dominates A's head but not B's, so the key
#     keeps two heads, {"a":2} and {"b":1}, and its conflict stays open.
#     A sink that trusted its cache after B's write would drop B's head.
#  5. A's /metrics count the hits and the invalidation.
TEST_NAME=postgres_heads_cache
. "$(dirname "$0")/lib.sh"

TABLE="hc_$RUN_ID"
CLEAN() { pgq "DROP VIEW IF EXISTS ${TABLE}_live; DROP TABLE IF EXISTS $TABLE, ${TABLE}_conflicts" >/dev/null 2>&1 || true; }
RDAPSYNC_PID=
stop_a() { if [[ -n "$RDAPSYNC_PID" ]]; then kill -TERM "$RDAPSYNC_PID" 2>/dev/null || true; wait "$RDAPSYNC_PID" 2>/dev/null || true; RDAPSYNC_PID=; fi; }
trap 'rc=$?; stop_a; if [[ $rc -eq 0 ]]; then CLEAN; fi; (exit $rc); cleanup_work' EXIT
CLEAN

line() { # key ts origin seq vv value
  printf '{"key":"%s","op":"upsert","ts_ms":%s,"origin":"%s","seq":%s,"vv":%s,"value":%s}\n' "$@"
}
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
config() { # name input follow [http]
  local http=""
  [[ -n "${4:-}" ]] && http="http: { listen: \"127.0.0.1:$port\" }"
  cat >"$1.yaml" <<YAML
state_dir: state-$1
$http
pipelines:
  - name: cache-$1
    source: { plugin: file, config: { path: "$WORK/$2", follow: $3 } }
    sink: { plugin: postgres, config: { dsn: "\${env:SINK_DSN}", table: $TABLE, conflicts: { strategy: lww } } }
    batch: { max_records: 100, max_wait: 50ms }
YAML
}
row_exists() { [[ "$(pgq "SELECT count(*) FROM $TABLE WHERE key = '$1'" 2>/dev/null)" == 1 ]]; }
heads_of() { pgq "SELECT coalesce(heads, 'NULL') FROM $TABLE WHERE key = '$1'"; }
heads_has() { heads_of "$1" | grep -qF "$2"; }

mkdir a
config a a true http
{
  line k1 1000 a 1 '{"a":1}' '{"v":"k1-a1"}'
  line k2 1000 a 2 '{"a":1}' '{"v":"k2-a1"}'
} >a/in.jsonl
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run a.yaml >a.log 2>&1 &
RDAPSYNC_PID=$!
wait_for 60 "A writes k1 and k2" row_exists k2
row_exists k1 || fail "k1 was not written"

# 2. Behind rdapsync's back: no epoch taken, so A's cache is still trusted.
pgq "UPDATE $TABLE SET heads = NULL WHERE key = 'k1'"
{
  line k1 1000 a 1 '{"a":1}' '{"v":"k1-a1"}'
  line k3 1000 a 3 '{"a":1}' '{"v":"k3-a1"}'
} >>a/in.jsonl
wait_for 60 "A writes k3 (after the duplicate of k1)" row_exists k3
[[ "$(heads_of k1)" == NULL ]] ||
  fail "A read k1's heads again although nobody else took an epoch: $(heads_of k1)"

# 3. Another writer of the same table.
line k2 1500 b 1 '{"b":1}' '{"v":"k2-b1"}' >b.jsonl
config b b.jsonl false
rdapsync_run b.yaml b.log || { tail -20 b.log >&2; fail "B failed"; }
heads_has k2 '"vv":{"b":1}' || fail "B's head of k2 is not stored: $(heads_of k2)"
[[ "$(pgq "SELECT count(*) FROM ${TABLE}_conflicts WHERE key = 'k2' AND resolved_at IS NULL")" == 1 ]] ||
  fail "k2's conflict should be open after B"

# 4. A again, on the key B wrote.
line k2 2000 a 4 '{"a":2}' '{"v":"k2-a2"}' >>a/in.jsonl
wait_for 60 "A writes k2 at {a:2}" heads_has k2 '"vv":{"a":2}'
heads=$(heads_of k2)
grep -qF '"vv":{"b":1}' <<<"$heads" || fail "A dropped B's head of k2 (a stale cache): $heads"
grep -qF '"vv":{"a":1}' <<<"$heads" && fail "k2 kept the dominated head {a:1}: $heads"
[[ "$(pgq "SELECT count(*) FROM ${TABLE}_conflicts WHERE key = 'k2' AND resolved_at IS NULL")" == 1 ]] ||
  fail "k2's conflict should still be open: {a:2} and {b:1} are concurrent"
[[ "$(pgq "SELECT doc->>'v' FROM $TABLE WHERE key = 'k2'")" == k2-a2 ]] ||
  fail "k2 should show the lww-greatest head, k2-a2"

# What A counted: k1's duplicate and k3 read nothing again, the write
# after B's found the cache emptied.
metric() { curl -fsS "http://127.0.0.1:$port/metrics" | awk -v m="$1{pipeline=\"cache-a\",task=\"0\",plugin=\"postgres\"}" '$1 == m { print $2 }'; }
hits=$(metric rdapsync_plugin_heads_cache_hits_total)
invalidations=$(metric rdapsync_plugin_heads_cache_invalidations_total)
(( ${hits:-0} >= 1 )) || fail "/metrics: heads_cache_hits_total ${hits:-missing}, want at least 1"
(( ${invalidations:-0} >= 1 )) || fail "/metrics: heads_cache_invalidations_total ${invalidations:-missing}, want at least 1"
log "/metrics: $hits heads cache hits, $invalidations invalidations"

stop_a
log "ok: a known key is not read again while no other writer took an epoch; after another writer it is"
