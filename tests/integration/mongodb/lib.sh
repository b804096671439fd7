# Helpers for the MongoDB sink's integration tests. Source it.
#
# The server is the project's FerretDB: `scripts/servers/ferretdb.sh start`,
# then `eval "$(scripts/servers/ferretdb.sh env)"` exports RDAPSYNC_MONGO_URI.
# A test without RDAPSYNC_MONGO_URI fails (CI always starts the server).
set -euo pipefail

: "${RDAPSYNC_SOURCE_DIR:?run through ctest (RDAPSYNC_SOURCE_DIR is not set)}"
: "${RDAPSYNC_BINARY_DIR:?run through ctest (RDAPSYNC_BINARY_DIR is not set)}"
: "${RDAPSYNC_BIN:?run through ctest (RDAPSYNC_BIN is not set)}"
: "${RDAPSYNC_PLUGIN_PATH:?run through ctest (RDAPSYNC_PLUGIN_PATH is not set)}"

TEST_NAME="${TEST_NAME:-$(basename "$0" .sh)}"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

if [[ -z "${RDAPSYNC_MONGO_URI:-}" ]]; then
  fail "RDAPSYNC_MONGO_URI is not set: start the server with scripts/servers/ferretdb.sh start and export what 'scripts/servers/ferretdb.sh env' prints"
fi

MONGO_EXPORT="$RDAPSYNC_BINARY_DIR/tests/integration/mongodb/mongo-export"
CANON="$RDAPSYNC_BINARY_DIR/tests/integration/swap/canon-jsonl"
[[ -x "$MONGO_EXPORT" ]] || fail "$MONGO_EXPORT not built"
[[ -x "$CANON" ]] || fail "$CANON not built"
SERVER="$RDAPSYNC_SOURCE_DIR/scripts/servers/ferretdb.sh"

# A fresh work folder per run, removed on success, kept on failure.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
cleanup_work() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup_work EXIT
cd "$WORK"

# Collection names unique to this run, so tests may share the server.
RUN_ID="$(printf '%s_%s' "$TEST_NAME" "$$" | tr -c 'a-z0-9_\n' '_')"
DB=rdapsync_test

rdapgen_bin() {
  local candidate
  for candidate in "${RDAPGEN:-}" "$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen" "$RDAPSYNC_BINARY_DIR/rdapgen"; do
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

# drop_collections NAME...: at the start and at the end of a test.
drop_collections() {
  local c
  for c in "$@"; do "$MONGO_EXPORT" --drop "$RDAPSYNC_MONGO_URI" "$DB" "$c" || fail "cannot drop $DB.$c"; done
}

# assert_state COLLECTION EXPECTED_FILE WHEN: the collection's live
# documents, exported and canonicalized, are byte-identical to rdapgen's
# --expected file (also canonicalized, which must leave it unchanged).
assert_state() {
  local coll="$1" expected="$2" when="$3"
  "$MONGO_EXPORT" "$RDAPSYNC_MONGO_URI" "$DB" "$coll" >"export-$coll.jsonl" || fail "$when: export failed"
  "$CANON" "export-$coll.jsonl" >"canon-$coll.jsonl" || fail "$when: the export does not canonicalize"
  "$CANON" "$expected" >expected.canon || fail "$when: the expected file does not canonicalize"
  cmp -s expected.canon "$expected" || fail "$when: rdapgen's expected file is not in canonical form"
  if ! cmp -s "canon-$coll.jsonl" "$expected"; then
    diff <(cut -c1-160 "$expected") <(cut -c1-160 "canon-$coll.jsonl") | head -n 10 >&2 || true
    fail "$when: $(wc -l <"canon-$coll.jsonl") live keys exported, $(wc -l <"$expected") expected; they differ"
  fi
  log "$when: state matches ($(wc -l <"$expected") live keys)"
}
