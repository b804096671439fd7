# Shared by the sqlite e2e scripts: environment checks, a scratch folder,
# rdapgen data, running rdapsync. Expects RDAPSYNC_SOURCE_DIR,
# RDAPSYNC_BINARY_DIR, RDAPSYNC_BIN, RDAPSYNC_PLUGIN_PATH from CTest.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*" >&2; }

for var in RDAPSYNC_SOURCE_DIR RDAPSYNC_BINARY_DIR RDAPSYNC_BIN RDAPSYNC_PLUGIN_PATH; do
  [ -n "${!var:-}" ] || fail "$var is not set (run through ctest)"
done
[ -x "$RDAPSYNC_BIN" ] || fail "no rdapsync binary at $RDAPSYNC_BIN"
[ -f "$RDAPSYNC_PLUGIN_PATH/sink-sqlite.so" ] || fail "sink-sqlite.so is not built"
command -v python3 >/dev/null || fail "python3 is needed to check the database"
export RDAPSYNC_PLUGIN_PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-sqlite.XXXXXX")
cleanup() {
  local rc=$?
  if [ -n "${rdapsync_pid:-}" ] && kill -0 "$rdapsync_pid" 2>/dev/null; then
    kill -9 "$rdapsync_pid" 2>/dev/null || true
  fi
  if [ "$rc" -eq 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$work"; else echo "work folder kept: $work" >&2; fi
}
trap cleanup EXIT
cd "$work"

check() { python3 "$here/check_sqlite.py" "$@"; }

rdapgen_bin() {
  local c
  for c in "$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen" "$RDAPSYNC_BINARY_DIR/rdapgen"; do
    if [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  fail "rdapgen not found in $RDAPSYNC_BINARY_DIR/tools/rdapgen (build the rdapgen target)"
}

# changes COUNT KEYS SEED OUT EXPECTED: change envelopes with updates,
# deletes, duplicates and out-of-order versions over three origins.
changes() {
  "$(rdapgen_bin)" --format envelope --count "$1" --keys "$2" --updates 0.4 --deletes 0.1 --duplicates 0.1 \
    --out-of-order 0.2 --origins 3 --size 1200 --seed "$3" --expected "$5" -o "$4"
  grep -q '"op":"delete"' "$4" || fail "rdapgen gave no deletes"
}

# run CONFIG LOG: runs rdapsync in the foreground; sets $status.
run() {
  status=0
  "$RDAPSYNC_BIN" run "$1" >"$2" 2>&1 || status=$?
}

# start CONFIG LOG: in the background; sets $rdapsync_pid.
start() {
  "$RDAPSYNC_BIN" run "$1" >>"$2" 2>&1 &
  rdapsync_pid=$!
}

wait_exit() {
  status=0
  wait "$rdapsync_pid" || status=$?
  rdapsync_pid=
}

random_ms() { echo $(( $1 + RANDOM % ($2 - $1 + 1) )); }
sleep_ms() { sleep "$(printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )))"; }
