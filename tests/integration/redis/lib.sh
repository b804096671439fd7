# Helpers for the Redis sink's integration tests. Source it.
#
# The server is the project's redis-server: `scripts/servers/redis.sh
# start`, then `eval "$(scripts/servers/redis.sh env)"` exports
# RDAPSYNC_REDIS_HOST/_PORT/_USER/_PASSWORD/_URL. A test without them fails
# (CI always starts the server).
set -euo pipefail

: "${RDAPSYNC_SOURCE_DIR:?run through ctest (RDAPSYNC_SOURCE_DIR is not set)}"
: "${RDAPSYNC_BINARY_DIR:?run through ctest (RDAPSYNC_BINARY_DIR is not set)}"
: "${RDAPSYNC_BIN:?run through ctest (RDAPSYNC_BIN is not set)}"
: "${RDAPSYNC_PLUGIN_PATH:?run through ctest (RDAPSYNC_PLUGIN_PATH is not set)}"

TEST_NAME="${TEST_NAME:-$(basename "$0" .sh)}"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

for var in RDAPSYNC_REDIS_HOST RDAPSYNC_REDIS_PORT RDAPSYNC_REDIS_USER RDAPSYNC_REDIS_PASSWORD RDAPSYNC_REDIS_URL; do
  [[ -n "${!var:-}" ]] ||
    fail "$var is not set: start the server with scripts/servers/redis.sh start and export what 'scripts/servers/redis.sh env' prints"
done

REDIS_EXPORT="$RDAPSYNC_BINARY_DIR/tests/integration/redis/redis-export"
CANON="$RDAPSYNC_BINARY_DIR/tests/integration/swap/canon-jsonl"
SINK="$RDAPSYNC_PLUGIN_PATH/sink-redis.so"
[[ -x "$REDIS_EXPORT" ]] || fail "$REDIS_EXPORT not built"
[[ -x "$CANON" ]] || fail "$CANON not built"
[[ -f "$SINK" ]] || fail "$SINK not built"
SERVER="$RDAPSYNC_SOURCE_DIR/scripts/servers/redis.sh"
"$SERVER" status >/dev/null 2>&1 ||
  fail "scripts/servers/redis.sh status does not see the server: export the RDAPSYNC_SERVERS_DIR (and RDAPSYNC_REDIS_PORT) it was started with"

# A fresh work folder per run, removed on success, kept on failure.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
cleanup_work() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup_work EXIT
cd "$WORK"

# A key prefix unique to this run, so tests may share the server.
PREFIX="t:${TEST_NAME}:$$:"

rcli() {
  REDISCLI_AUTH="$RDAPSYNC_REDIS_PASSWORD" redis-cli --no-auth-warning -h "$RDAPSYNC_REDIS_HOST" \
    -p "$RDAPSYNC_REDIS_PORT" --user "$RDAPSYNC_REDIS_USER" "$@"
}

drop_prefix() { "$REDIS_EXPORT" --drop "${1:-$PREFIX}" || fail "cannot delete the keys under ${1:-$PREFIX}"; }

# The sink block every test uses (YAML, indented for pipelines[].sink.config).
sink_config() {
  cat <<YAML
        url: "\${env:RDAPSYNC_REDIS_URL}"
        username: "\${env:RDAPSYNC_REDIS_USER}"
        password: "\${env:RDAPSYNC_REDIS_PASSWORD}"
        prefix: "$PREFIX"
YAML
}

rdapgen_bin() {
  local candidate
  for candidate in "${RDAPGEN:-}" "$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen"; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  fail "rdapgen not found in $RDAPSYNC_BINARY_DIR/tools/rdapgen (build the rdapgen target)"
}

# rdapsync_run CONFIG [LOG]: runs the pipeline file to its end.
rdapsync_run() {
  local config="$1" logfile="${2:-rdapsync.log}"
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run "$config" >>"$logfile" 2>&1
}

# wait_for TIMEOUT_S DESCRIPTION CMD...: polls CMD every 0.1 s.
wait_for() {
  local timeout_s="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || fail "timed out after ${timeout_s}s waiting for: $what"
    sleep 0.1
  done
}

# assert_state EXPECTED_FILE WHEN: the live documents under PREFIX,
# exported and canonicalized, are byte-identical to rdapgen's --expected
# file.
assert_state() {
  local expected="$1" when="$2"
  "$REDIS_EXPORT" "$PREFIX" >export.jsonl || fail "$when: export failed"
  "$CANON" export.jsonl >canon.jsonl || fail "$when: the export does not canonicalize"
  if ! cmp -s canon.jsonl "$expected"; then
    diff <(cut -c1-160 "$expected") <(cut -c1-160 canon.jsonl) | head -n 10 >&2 || true
    fail "$when: $(wc -l <canon.jsonl) live keys exported, $(wc -l <"$expected") expected; they differ"
  fi
  log "$when: state matches ($(wc -l <"$expected") live keys)"
}
