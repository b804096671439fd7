#!/usr/bin/env bash
# The sink conformance kit (sdk/testkit) on the Redis sink against the real
# redis-server, read back with redis-export. --fail-cmd stops the server
# and starts it again a moment later, so the retry case meets a real
# outage.
#
# It stops the shared server: CTest runs it alone (RUN_SERIAL), and it needs
# the RDAPSYNC_SERVERS_DIR / RDAPSYNC_REDIS_PORT the server was started with.
TEST_NAME=redis_conformance
. "$(dirname "$0")/lib.sh"

KIT="$RDAPSYNC_BINARY_DIR/sdk/testkit/rdapsync-sink-testkit"
[[ -x "$KIT" ]] || fail "$KIT not built"

cat >outage.sh <<SH
#!/usr/bin/env bash
set -euo pipefail
if [[ -f restart.pid ]]; then
  while kill -0 "\$(cat restart.pid)" 2>/dev/null; do sleep 0.1; done
fi
"$SERVER" stop >>outage.log 2>&1
( sleep 1; "$SERVER" start >>outage.log 2>&1 ) &
echo \$! >restart.pid
SH
chmod +x outage.sh
restart_pending() { [[ -f restart.pid ]] && kill -0 "$(cat restart.pid)" 2>/dev/null; }
# Whatever happens, leave the server running for the tests after this one.
trap 'while restart_pending; do sleep 0.1; done; "$SERVER" start >/dev/null 2>&1 || true; cleanup_work' EXIT

{ printf 'timeout: 2s\n'; sink_config | sed 's/^        //'; } >sink.yaml
# Configurations open must refuse, each for its own reason.
cat >bad-unreachable.yaml <<'YAML'
url: "redis://127.0.0.1:1/0"
timeout: 1s
YAML
cat >bad-scheme.yaml <<'YAML'
url: "rediss://127.0.0.1/0"
YAML
cat >bad-password.yaml <<'YAML'
url: "${env:RDAPSYNC_REDIS_URL}"
username: "${env:RDAPSYNC_REDIS_USER}"
password: "not-the-password"
YAML
cat >bad-url-and-port.yaml <<'YAML'
url: "${env:RDAPSYNC_REDIS_URL}"
port: 6379
YAML
cat >bad-credentials-in-url.yaml <<'YAML'
url: "redis://user:secret@127.0.0.1:6379/0"
YAML
cat >bad-user-without-password.yaml <<'YAML'
url: "${env:RDAPSYNC_REDIS_URL}"
username: someone
YAML

log "conformance kit"
export KIT_PREFIX="$PREFIX"
if ! "$KIT" --plugin "$SINK" --config sink.yaml \
      --reset-cmd "'$REDIS_EXPORT' --drop \"\$RDAPSYNC_TESTKIT_ARG\"" \
      --readback-cmd "'$REDIS_EXPORT' \"\$RDAPSYNC_TESTKIT_ARG\"" --hook-arg "$PREFIX" \
      --bad-config bad-unreachable.yaml --bad-config bad-scheme.yaml --bad-config bad-password.yaml \
      --bad-config bad-url-and-port.yaml --bad-config bad-credentials-in-url.yaml \
      --bad-config bad-user-without-password.yaml \
      --fail-cmd "$WORK/outage.sh" >kit.out 2>kit.err; then
  cat kit.out >&2
  tail -n 20 kit.err >&2
  fail "the conformance kit failed"
fi
cat kit.out >&2
grep -q '^SKIP' kit.out && fail "a case was skipped: every case must run here"
tail -n 1 kit.out | grep -Eq '^[1-9][0-9]* passed, 0 failed$' || fail "unexpected summary"

while restart_pending; do sleep 0.1; done
drop_prefix
log "PASS"
