#!/usr/bin/env bash
# `rdapsync erase` killed with SIGKILL part way resumes: the subject is in a
# SQLite store (the first pipeline) and a PostgreSQL table (the second),
# both with conflict heads. Another session holds a lock on the PostgreSQL
# table, so the erasure stops there after it finished SQLite; once its
# journal names SQLite and its query waits on the lock, it is killed. The
# rerun says it resumes, reports SQLite as erased in the earlier run,
# erases PostgreSQL, and a raw scan of both stores finds no trace of her;
# the journal is gone at the end.
source "$(dirname "$0")/../postgres/lib.sh"
TABLE="er_$RUN_ID"
LOCKER="rdapsync_locker_$RUN_ID"
pids=()
cleanup_resume() {
  local rc=$? p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  pgq "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ('$LOCKER', '$APP_NAME')" \
    >/dev/null 2>&1 || true
  pgq "DROP VIEW IF EXISTS ${TABLE}_live; DROP TABLE IF EXISTS $TABLE, ${TABLE}_heads, ${TABLE}_conflicts" \
    >/dev/null 2>&1 || true
  (exit $rc)
  cleanup_work
}
trap cleanup_resume EXIT

contact() { # handle name email
  printf '{"handle":"%s","roles":["registrant"],"kind":"individual","name":"%s","emails":["%s"]}' "$@"
}
domain() { # ldh contact
  printf '{"rdapsync":{"schema":"rdapsync.unified/1"},"object_class":"domain","ldh_name":"%s","contacts":{"registrant":[%s]}}' "$1" "$2"
}
vline() { # key ts origin seq vv value
  printf '{"key":"%s","op":"upsert","ts_ms":%s,"origin":"%s","seq":%s,"vv":%s,"value":%s}\n' "$@"
}
maren="$(contact C20117001-EXAMPLE "Maren Oakhurst" maren@larkspur-bindery.example)"
yusuf="$(contact C20117003-EXAMPLE "Yusuf Brannigan" yusuf@tallgrass-hosting.example)"
{
  vline domain/larkspur-bindery.example 1000 eu 1 '{"eu":1}' "$(domain larkspur-bindery.example "$maren")"
  vline domain/larkspur-bindery.example 2000 us 2 '{"us":1}' "$(domain larkspur-bindery.example "$maren")"
  vline domain/tallgrass.example 1000 eu 3 '{"eu":1}' "$(domain tallgrass.example "$yusuf")"
} >docs.jsonl
head -c 32 /dev/urandom | base64 >subjects.key
cat >c.yaml <<YAML
state_dir: $WORK/state
compliance: { suppression: $WORK/suppressed.list, key: "\${file:$WORK/subjects.key}", policy_dir: "$RDAPSYNC_SOURCE_DIR/config/policies" }
pipelines:
  - name: lite
    source: { plugin: file, config: { path: "$WORK/docs.jsonl" } }
    sink: { plugin: sqlite, config: { path: "$WORK/r.db", conflicts: { strategy: lww } } }
  - name: pg
    source: { plugin: file, config: { path: "$WORK/docs.jsonl" } }
    sink: { plugin: postgres, config: { dsn: "\${env:SINK_DSN}", table: $TABLE, conflicts: { strategy: lww } } }
YAML
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run c.yaml >run.log 2>&1 || { tail -20 run.log >&2; fail "the run failed"; }
scan() {
  strings -a r.db; [[ ! -e r.db-wal ]] || strings -a r.db-wal
  pg_dump --data-only -t "$TABLE" -t "${TABLE}_conflicts" "$RDAPSYNC_PG_DSN"
}
(( $(scan | grep -a -c -i maren@larkspur-bindery.example) > 0 )) || fail "the subject is not stored (scan broken?)"

# The lock: held until this test terminates the locker's backend.
PGAPPNAME="$LOCKER" psql -X -q "$RDAPSYNC_PG_DSN" \
  -c "BEGIN; LOCK TABLE $TABLE IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3600);" >/dev/null 2>&1 &
pids+=($!)
until [[ "$(pgq "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '$LOCKER' AND l.mode = 'AccessExclusiveLock' AND l.granted")" -ge 1 ]]; do
  sleep 0.1
done
log "the PostgreSQL table is locked; erasing"

"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" erase --subject email:maren@larkspur-bindery.example c.yaml \
  >erase1.out 2>&1 &
eraser=$!
pids+=("$eraser")
journal() { cat state/compliance/erase-*.journal 2>/dev/null || true; }
waiting() { pgq "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$APP_NAME' AND wait_event_type = 'Lock'"; }
until [[ "$(journal)" == *lite* && "$(waiting)" -ge 1 ]]; do
  kill -0 "$eraser" 2>/dev/null || { cat erase1.out >&2; fail "erase ended before it reached the locked table"; }
  sleep 0.1
done
kill -9 "$eraser"
wait "$eraser" 2>/dev/null || true
log "killed mid-erase: the journal holds '$(journal | tr '\n' ' ')'"
[[ "$(journal)" != *pg/* ]] || fail "the journal names the locked store as done"
pgq "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ('$LOCKER', '$APP_NAME')" >/dev/null
(( $(scan | grep -a -c -i maren@larkspur-bindery.example) > 0 )) || fail "the locked store lost her before the rerun?"

"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" erase --subject email:maren@larkspur-bindery.example c.yaml \
  >erase2.out 2>&1 || { cat erase2.out >&2; fail "the rerun failed"; }
cat erase2.out >&2
grep -q "^resuming an erasure stopped after 1 sink" erase2.out || fail "the rerun does not say it resumes"
grep -q "pipeline lite, sink sqlite: erased [1-9][0-9]* documents\? (in an earlier run)" erase2.out ||
  fail "the rerun does not report SQLite as erased in the earlier run"
grep -q "pipeline pg, sink postgres: erased [1-9]" erase2.out || fail "the rerun did not erase PostgreSQL"
for value in maren@larkspur-bindery.example Oakhurst C20117001-EXAMPLE; do
  (( $(scan | grep -a -c -i -F -- "$value") == 0 )) || fail "after the rerun '$value' is still stored"
done
(( $(scan | grep -a -c -F yusuf@tallgrass-hosting.example) > 0 )) || fail "the erasure took the other subject too"
[[ -z "$(journal)" ]] || fail "the journal is still there after the complete run"
log "PASS"
