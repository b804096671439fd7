#!/usr/bin/env bash
# The version guard on the server, tombstones and TTLs, through `rdapsync
# run` (each step its own run, so each change meets what an earlier batch
# stored):
#   - an older version after a newer one is skipped (counted stale);
#   - a delete leaves a tombstone that keeps its version, and an older
#     upsert after it does not bring the key back; a newer one does;
#   - ttl / tombstone_ttl set the keys' expiry, a write without them
#     removes an earlier one;
#   - the document is readable with redis-cli (GET) as stored JSON;
#   - a key under the prefix that the sink did not write (no version key),
#     or a version key of another type, is an ERROR naming the key, and
#     that key is left as it was.
TEST_NAME=redis_guard
. "$(dirname "$0")/lib.sh"
drop_prefix

# step NAME EXTRA_SINK_YAML LINE...: one run over the given envelope lines.
step() {
  local name="$1" extra="$2"; shift 2
  printf '%s\n' "$@" >"$name.jsonl"
  cat >"$name.yaml" <<YAML
state_dir: state-$name
pipelines:
  - name: $name
    source: { plugin: file, config: { path: $name.jsonl } }
    sink:
      plugin: redis
      config:
$(sink_config)
$extra
    errors: { tolerance: none }
YAML
  rdapsync_run "$name.yaml" "$name.log" || { tail -n 20 "$name.log" >&2; fail "run $name failed"; }
}
env_line() { # KEY TS SEQ VALUE|delete
  if [[ "$4" == delete ]]; then
    printf '{"key":"%s","op":"delete","ts_ms":%s,"origin":"o","seq":%s}' "$1" "$2" "$3"
  else
    printf '{"key":"%s","op":"upsert","ts_ms":%s,"origin":"o","seq":%s,"value":%s}' "$1" "$2" "$3" "$4"
  fi
}
live() { "$REDIS_EXPORT" "$PREFIX" | "$CANON" /dev/stdin; }
tombstones() { "$REDIS_EXPORT" --tombstones "$PREFIX"; }

step newer "" "$(env_line a 200 1 '{"n":2}')" "$(env_line b 100 1 '{"n":1}')"
step older "" "$(env_line a 100 9 '{"n":1}')"
[[ "$(live | grep '"key":"a"')" == '{"key":"a","ts_ms":200,"origin":"o","seq":1,"value":{"n":2}}' ]] ||
  fail "an older version replaced a newer one: $(live)"
log "older after newer: skipped"

step delete "" "$(env_line b 300 2 delete)"
live | grep -q '"key":"b"' && fail "the deleted key is still live"
[[ "$(tombstones)" == '{"key":"b","ts_ms":300,"origin":"o","seq":2,"ttl_ms":-1}' ]] ||
  fail "the tombstone does not keep the delete's version: $(tombstones)"
step resurrect "" "$(env_line b 250 3 '{"n":"zombie"}')"
live | grep -q '"key":"b"' && fail "an older upsert brought a deleted key back"
[[ "$(tombstones)" == *'"ts_ms":300'* ]] || fail "the tombstone's version changed: $(tombstones)"
step revive "" "$(env_line b 400 4 '{"n":"back"}')"
[[ "$(live | grep '"key":"b"')" == '{"key":"b","ts_ms":400,"origin":"o","seq":4,"value":{"n":"back"}}' ]] ||
  fail "a newer upsert after the delete was not stored: $(live)"
log "tombstones keep their version; older upserts do not resurrect, newer ones do"

# The document as a cache reader sees it: a plain string at prefix + key;
# the version beside it at prefix NUL "v:" key.
[[ "$(rcli GET "${PREFIX}a")" == '{"n":2}' ]] || fail "GET ${PREFIX}a: $(rcli GET "${PREFIX}a")"
[[ "$(rcli TYPE "${PREFIX}a")" == string ]] || fail "the document is a $(rcli TYPE "${PREFIX}a"), not a string"
vkey() { printf '"%s\\x00v:%s"' "$PREFIX" "$1"; } # quoted for redis-cli --quoted-input
[[ "$(rcli --quoted-input STRLEN "$(vkey a)")" -gt 0 ]] || fail "no version key beside ${PREFIX}a"

ttl_extra='        ttl: 60s
        tombstone_ttl: 30s'
step ttl "$ttl_extra" "$(env_line c 100 1 '{"n":1}')" "$(env_line b 500 5 delete)"
pttl="$(rcli PTTL "${PREFIX}c")"
(( pttl > 0 && pttl <= 60000 )) || fail "ttl 60s: PTTL of the document is $pttl"
pttl="$(rcli --quoted-input PTTL "$(vkey c)")"
(( pttl > 0 && pttl <= 60000 )) || fail "ttl 60s: PTTL of the version key is $pttl"
[[ "$(rcli EXISTS "${PREFIX}b")" == 0 ]] || fail "the deleted document is still there"
pttl="$(rcli --quoted-input PTTL "$(vkey b)")"
(( pttl > 0 && pttl <= 30000 )) || fail "tombstone_ttl 30s: PTTL of the tombstone is $pttl"
step no-ttl "" "$(env_line c 200 2 '{"n":2}')"
[[ "$(rcli PTTL "${PREFIX}c")" == -1 ]] || fail "a write without ttl kept the old expiry: $(rcli PTTL "${PREFIX}c")"
[[ "$(rcli --quoted-input PTTL "$(vkey c)")" == -1 ]] || fail "a write without ttl kept the version key's expiry"
log "ttl and tombstone_ttl applied; a write without ttl removes the expiry"

# An expired tombstone holds nothing: an older version may be written again
# (documented). Let the server expire it now.
rcli --quoted-input PEXPIRE "$(vkey b)" 1 >/dev/null
wait_for 10 "the tombstone to expire" test "$(rcli --quoted-input EXISTS "$(vkey b)")" = 0
step after-expiry "" "$(env_line b 450 6 '{"n":"after"}')"
live | grep -q '"key":"b","ts_ms":450' || fail "after the tombstone expired, the older upsert was not stored"

# A key under the prefix that the sink did not write (no version key
# beside it): ERROR naming it (the task stops; nothing is dead-lettered for
# a server-side refusal), and the key is left as it was.
rcli SET "${PREFIX}w" "someone else's string" >/dev/null
printf '%s\n' "$(env_line v 1 1 '{"n":1}')" "$(env_line w 1 1 '{"n":1}')" >notours.jsonl
sed 's/newer/notours/g' newer.yaml >notours.yaml
if rdapsync_run notours.yaml notours.log; then fail "writing over another program's key succeeded"; fi
grep -qF "key \\\"${PREFIX}w\\\": NOTOURS" notours.log ||
  { tail -n 5 notours.log >&2; fail "the NOTOURS error does not name the key"; }
[[ "$(rcli GET "${PREFIX}w")" == "someone else's string" ]] || fail "the other program's key was changed"
log "a key without the sink's version key: ERROR naming it"

# A version key of another type: ERROR naming the key (WRONGTYPE).
rcli DEL "${PREFIX}w" >/dev/null
rcli --quoted-input HSET "$(vkey x)" f 1 >/dev/null
printf '%s\n' "$(env_line x 1 1 '{"n":1}')" >wrongtype.jsonl
sed 's/newer/wrongtype/g' newer.yaml >wrongtype.yaml
if rdapsync_run wrongtype.yaml wrongtype.log; then fail "writing past a version key of another type succeeded"; fi
grep -qF "key \\\"${PREFIX}x\\\": WRONGTYPE" wrongtype.log ||
  { tail -n 5 wrongtype.log >&2; fail "the WRONGTYPE error does not name the key"; }
[[ "$(rcli EXISTS "${PREFIX}x")" == 0 ]] || fail "a document was written past a version key of another type"
log "a version key of another type: ERROR naming it"

drop_prefix
log "PASS"
