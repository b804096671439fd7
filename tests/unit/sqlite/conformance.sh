#!/usr/bin/env bash
# The sink conformance kit (sdk/testkit) on the SQLite sink. SQLite needs no
# server: the database is a file in a scratch folder. The kit's --fail-cmd
# is a second process taking SQLite's write lock for a few seconds
# (sqlite_locker), the transient failure an embedded database has: the sink
# must answer RETRY while it lasts and lose nothing.
set -euo pipefail

for var in RDAPSYNC_SOURCE_DIR RDAPSYNC_BINARY_DIR RDAPSYNC_PLUGIN_PATH; do
  [[ -n "${!var:-}" ]] || { echo "FAIL: $var is not set (run through ctest)" >&2; exit 1; }
done
fail() { echo "FAIL: $*" >&2; exit 1; }

KIT="$RDAPSYNC_BINARY_DIR/sdk/testkit/rdapsync-sink-testkit"
HOOK="$RDAPSYNC_BINARY_DIR/tests/unit/sqlite/testkit-hook-sqlite.so"
LOCKER="$RDAPSYNC_BINARY_DIR/tests/unit/sqlite/sqlite_locker"
SINK="$RDAPSYNC_PLUGIN_PATH/sink-sqlite.so"
for f in "$KIT" "$HOOK" "$LOCKER" "$SINK"; do [[ -f "$f" ]] || fail "$f not built"; done

work="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-sqlite-kit.XXXXXX")"
cleanup() {
  local rc=$?
  # Lock holders still sleeping: theirs to finish, ours to end.
  [[ -n "${locker_pids:-}" ]] && kill $locker_pids 2>/dev/null
  if [[ $rc -eq 0 ]]; then rm -rf "$work"; else echo "work folder kept: $work" >&2; fi
}
trap cleanup EXIT
cd "$work"

DB="$work/kit.db"
TABLE=kit_records
cat >sink.yaml <<YAML
path: "$DB"
table: $TABLE
busy_timeout: 100ms
YAML
cat >bad-missing-path.yaml <<'YAML'
table: nowhere
YAML
cat >bad-reserved-table.yaml <<YAML
path: "$DB"
table: sqlite_stat9
YAML
cat >bad-mode.yaml <<YAML
path: "$DB"
mode: merge
YAML
cat >bad-same-positions-table.yaml <<YAML
path: "$DB"
table: positions
positions_table: POSITIONS
exactly_once: true
YAML
cat >bad-positions-without-exactly-once.yaml <<YAML
path: "$DB"
positions_table: positions
YAML
cat >bad-missing-table.yaml <<YAML
path: "$DB"
table: missing
create_table: false
YAML
mkdir a-folder
cat >bad-path-is-folder.yaml <<YAML
path: "$work/a-folder"
YAML
printf 'this is not a database, just text long enough to fill a header page of SQLite ........................\n' >not-a-db.db
cat >bad-not-a-database.yaml <<YAML
path: "$work/not-a-db.db"
YAML

# The lock holder keeps the lock 3 s and returns once it holds it, or after
# 2 s: the kit's second failure then always meets a held lock.
FAIL_CMD="'$LOCKER' '$DB' 3000 2000 >>'$work/locker.log' 2>&1"

run_kit() {
  local label="$1"; shift
  echo "-- conformance kit: $label" >&2
  if ! "$KIT" --plugin "$SINK" --config sink.yaml --hook "$HOOK" --hook-arg "$TABLE:$DB" "$@" \
        >"kit-$label.out" 2>"kit-$label.err"; then
    cat "kit-$label.out" >&2
    tail -n 20 "kit-$label.err" >&2
    fail "the conformance kit failed ($label)"
  fi
  cat "kit-$label.out" >&2
  if grep -q '^SKIP' "kit-$label.out"; then fail "a case was skipped ($label): every case must run here"; fi
  tail -n 1 "kit-$label.out" | grep -Eq '^[1-9][0-9]* passed, 0 failed$' || fail "unexpected summary ($label)"
}

run_kit default \
  --bad-config bad-missing-path.yaml --bad-config bad-reserved-table.yaml --bad-config bad-mode.yaml \
  --bad-config bad-same-positions-table.yaml --bad-config bad-positions-without-exactly-once.yaml \
  --bad-config bad-missing-table.yaml \
  --bad-config bad-path-is-folder.yaml --bad-config bad-not-a-database.yaml \
  --fail-cmd "$FAIL_CMD"

# The same promises with exactly-once positions and the weaker sync.
printf 'exactly_once: true\nsynchronous: normal\n' >>sink.yaml
run_kit exactly-once --bad-config bad-same-positions-table.yaml --fail-cmd "$FAIL_CMD" --large-batch 2000
grep -q 'lock held' locker.log || fail "the lock holder never held the lock: the failure path was not exercised"
echo "PASS sqlite conformance" >&2
