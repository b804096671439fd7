#!/usr/bin/env bash
# Credentials are really used: the server requires them (scripts/servers/
# redis.sh sets an ACL user and requirepass). A wrong password stops the
# task with a clear error that names the user and not the password; no
# credentials at all gives the server's NOAUTH; the right ones through
# host/port/database (instead of url) store into that database.
TEST_NAME=redis_auth
. "$(dirname "$0")/lib.sh"

printf '{"key":"k","op":"upsert","ts_ms":1,"origin":"o","seq":1,"value":{"n":1}}\n' >in.jsonl
pipeline() { # NAME SINK-CONFIG-LINES
  cat >"$1.yaml" <<YAML
state_dir: state-$1
pipelines:
  - name: $1
    source: { plugin: file, config: { path: in.jsonl } }
    sink:
      plugin: redis
      config:
$2
    errors: { tolerance: none }
YAML
}

export WRONG_PASSWORD=not-the-password-4711
pipeline wrong "        url: \"\${env:RDAPSYNC_REDIS_URL}\"
        username: \"\${env:RDAPSYNC_REDIS_USER}\"
        password: \"\${env:WRONG_PASSWORD}\"
        prefix: \"$PREFIX\""
if rdapsync_run wrong.yaml wrong.log; then fail "a run with a wrong password succeeded"; fi
grep -qF "authentication failed for user \\\"$RDAPSYNC_REDIS_USER\\\" (check username and password)" wrong.log ||
  { tail -n 20 wrong.log >&2; fail "no clear authentication error"; }
grep -q 'not-the-password-4711' wrong.log && fail "the password was written to the log"
log "wrong password: clear error, password not logged"

pipeline none "        url: \"\${env:RDAPSYNC_REDIS_URL}\"
        prefix: \"$PREFIX\""
if rdapsync_run none.yaml none.log; then fail "a run without credentials succeeded"; fi
grep -q 'NOAUTH' none.log || { tail -n 20 none.log >&2; fail "no NOAUTH error without credentials"; }
log "no credentials: NOAUTH"

pipeline right "        host: \"\${env:RDAPSYNC_REDIS_HOST}\"
        port: \${env:RDAPSYNC_REDIS_PORT}
        database: 1
        username: \"\${env:RDAPSYNC_REDIS_USER}\"
        password: \"\${env:RDAPSYNC_REDIS_PASSWORD}\"
        prefix: \"$PREFIX\""
rdapsync_run right.yaml right.log || { tail -n 20 right.log >&2; fail "the run with the right credentials failed"; }
[[ "$(RDAPSYNC_REDIS_DB=1 "$REDIS_EXPORT" "$PREFIX")" == *'"key":"k"'* ]] || fail "nothing stored in database 1"
[[ -z "$("$REDIS_EXPORT" "$PREFIX")" ]] || fail "database 0 got the key instead of database 1"
RDAPSYNC_REDIS_DB=1 "$REDIS_EXPORT" --drop "$PREFIX"
log "PASS"
