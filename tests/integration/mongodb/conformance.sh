#!/usr/bin/env bash
# The sink conformance kit (sdk/testkit) on the MongoDB sink against the
# real FerretDB, with both places of the version guard: the sink's own
# (the default on FerretDB) and the server's (the default on MongoDB,
# forced here). --fail-cmd stops the server and starts it again a moment
# later, so the retry case meets a real outage.
#
# It stops the shared server: CTest runs it alone (RUN_SERIAL), and it needs
# the RDAPSYNC_SERVERS_DIR / RDAPSYNC_MONGO_PORT the server was started with.
TEST_NAME=mongodb_conformance
. "$(dirname "$0")/lib.sh"

KIT="$RDAPSYNC_BINARY_DIR/sdk/testkit/rdapsync-sink-testkit"
HOOK="$RDAPSYNC_BINARY_DIR/tests/integration/mongodb/testkit-hook-mongodb.so"
SINK="$RDAPSYNC_PLUGIN_PATH/sink-mongodb.so"
[[ -x "$KIT" ]] || fail "$KIT not built"
[[ -f "$HOOK" ]] || fail "$HOOK not built"
[[ -f "$SINK" ]] || fail "$SINK not built"
if ! "$SERVER" status >/dev/null 2>&1; then
  fail "scripts/servers/ferretdb.sh status does not see the server behind RDAPSYNC_MONGO_URI: export the RDAPSYNC_SERVERS_DIR (and RDAPSYNC_MONGO_PORT) it was started with"
fi

# The outage: stop now, start again one second later in the background
# (the kit writes right after this returns, so the write meets a stopped
# server). A restart still pending from the previous call is waited for.
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

COLL="kit_$RUN_ID"
cat >sink.yaml <<YAML
uri: "\${env:RDAPSYNC_MONGO_URI}"
database: $DB
collection: $COLL
connect_timeout: 2s
YAML
# Configurations open must refuse, each for its own reason.
cat >bad-unreachable.yaml <<'YAML'
uri: "mongodb://127.0.0.1:1/"
connect_timeout: 1s
YAML
cat >bad-scheme.yaml <<'YAML'
uri: "postgres://127.0.0.1/"
YAML
cat >bad-guard.yaml <<'YAML'
uri: "${env:RDAPSYNC_MONGO_URI}"
version_guard: sometimes
YAML
cat >bad-missing-uri.yaml <<'YAML'
collection: nowhere
YAML
cat >bad-database.yaml <<'YAML'
uri: "${env:RDAPSYNC_MONGO_URI}"
database: "no.dots"
YAML
cat >bad-collection.yaml <<'YAML'
uri: "${env:RDAPSYNC_MONGO_URI}"
collection: "system.users"
YAML

run_kit() {
  local label="$1"; shift
  local out="kit-$label.out"
  log "conformance kit: $label"
  if ! "$KIT" --plugin "$SINK" --config sink.yaml --hook "$HOOK" --hook-arg "$DB.$COLL" \
        --bad-config bad-unreachable.yaml --bad-config bad-scheme.yaml --bad-config bad-guard.yaml \
        --bad-config bad-missing-uri.yaml --bad-config bad-database.yaml --bad-config bad-collection.yaml \
        --fail-cmd "$WORK/outage.sh" "$@" >"$out" 2>"kit-$label.err"; then
    cat "$out" >&2
    tail -n 20 "kit-$label.err" >&2
    fail "the conformance kit failed ($label)"
  fi
  cat "$out" >&2
  grep -q '^SKIP' "$out" && fail "a case was skipped ($label): every case must run here"
  tail -n 1 "$out" | grep -Eq '^[1-9][0-9]* passed, 0 failed$' || fail "unexpected summary ($label)"
}

run_kit "guard evaluated by the sink (auto on FerretDB)"
sed -i '$a version_guard: server' sink.yaml
run_kit "guard in the update filter (version_guard server)" --large-batch 2000

while restart_pending; do sleep 0.1; done
drop_collections "$COLL"
log "PASS"
