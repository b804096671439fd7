# Shared by the evolve e2e scripts: environment checks, a scratch directory.
# Expects RDAPSYNC_SOURCE_DIR, RDAPSYNC_BINARY_DIR, RDAPSYNC_BIN,
# RDAPSYNC_PLUGIN_PATH from CTest (rdapsync_add_script_test).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

for var in RDAPSYNC_SOURCE_DIR RDAPSYNC_BINARY_DIR RDAPSYNC_BIN RDAPSYNC_PLUGIN_PATH; do
  [ -n "${!var:-}" ] || fail "$var is not set (run through ctest)"
done
[ -x "$RDAPSYNC_BIN" ] || fail "no rdapsync binary at $RDAPSYNC_BIN"
command -v python3 >/dev/null || fail "python3 is needed to check outputs"
export RDAPSYNC_PLUGIN_PATH

fixtures="$RDAPSYNC_SOURCE_DIR/tests/fixtures/rdap"
[ -d "$fixtures" ] || fail "no fixtures at $fixtures"

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-evolve.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT; [ -n "${KEEP_WORK:-}" ] && trap - EXIT
cd "$work"

# run CONFIG LOG: rdapsync in the foreground; fails the test unless it exits 0.
run() {
  local status=0
  "$RDAPSYNC_BIN" run "$1" >"$2" 2>&1 || status=$?
  [ "$status" -eq 0 ] || { tail -30 "$2" >&2; fail "rdapsync run $1 exited $status"; }
}
