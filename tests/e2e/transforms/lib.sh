# Shared by the transform e2e scripts: environment checks, a scratch
# directory, inputs (fixtures, rdapgen), running rdapsync.
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
policies="$RDAPSYNC_SOURCE_DIR/config/policies"
[ -d "$fixtures" ] || fail "no fixtures at $fixtures"

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-transforms.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT; [ -n "${KEEP_WORK:-}" ] && trap - EXIT
cd "$work"

pii() { python3 "$here/pii.py" "$@"; }
check() { python3 "$here/check.py" "$@"; }

# rdapgen COUNT SEED FILE [options...]: the repo's generator (required).
rdapgen() {
  local gen="$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen" count=$1 seed=$2 out=$3
  shift 3
  [ -x "$gen" ] || fail "rdapgen is not built at $gen (cmake --build <dir> --target rdapgen)"
  "$gen" --count "$count" --seed "$seed" "$@" -o "$out"
}

# pipeline_config FILE INPUT OUTPUT TRANSFORMS_YAML: file source -> transforms -> file sink,
# tolerance all with a dead-letter file.
pipeline_config() {
  local file=$1 input=$2 output=$3 transforms=$4
  cat >"$file" <<YAML
state_dir: $work/state-$(basename "$file" .yaml)
log: { level: debug }
pipelines:
  - name: transforms
    source: { plugin: file, config: { path: "$input" } }
    transforms:
$transforms
    sink: { plugin: file, config: { path: "$output" } }
    batch: { max_records: 500, max_wait: 100ms }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "$output.dead" }, protect: none } }
YAML
}

# run CONFIG LOG: rdapsync in the foreground; fails the test unless it exits 0.
run() {
  local status=0
  "$RDAPSYNC_BIN" run "$1" >"$2" 2>&1 || status=$?
  [ "$status" -eq 0 ] || { tail -30 "$2" >&2; fail "rdapsync run $1 exited $status"; }
}
