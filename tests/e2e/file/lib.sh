# Shared by the file e2e scripts: environment checks, a scratch directory,
# test data (rdapgen when built, else gen_rdap.py), running rdapsync.
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

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-file.XXXXXX")
cleanup() {
  if [ -n "${rdapsync_pid:-}" ] && kill -0 "$rdapsync_pid" 2>/dev/null; then
    kill -9 "$rdapsync_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# KEEP_WORK=1 keeps the scratch directory for a look after a failure.
if [ -n "${KEEP_WORK:-}" ]; then trap - EXIT; echo "-- work directory: $work"; fi
cd "$work"

check() { python3 "$here/check.py" "$@"; }

# rdapgen_bin: the built generator, if any.
rdapgen_bin() {
  local c
  for c in "$RDAPSYNC_BINARY_DIR/rdapgen" "$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen"; do
    if [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}

# generate COUNT SEED FILE [SIZE]: RDAP domain objects, one per line.
generate() {
  local count=$1 seed=$2 out=$3 size=${4:-1024} gen
  if gen=$(rdapgen_bin); then
    "$gen" --count "$count" --seed "$seed" --size "$size" -o "$out"
  else
    python3 "$here/gen_rdap.py" --count "$count" --seed "$seed" --size "$size" -o "$out"
  fi
  [ "$(wc -l <"$out")" -eq "$count" ] || fail "generator wrote $(wc -l <"$out") lines, not $count"
}

# write_config FILE SOURCE_PATH SINK_PATH [tolerance] [extra source options] [extra pipeline yaml]
write_config() {
  local file=$1 src=$2 sink=$3 tolerance=${4:-all} src_extra=${5:-} more=${6:-}
  cat >"$file" <<YAML
state_dir: $work/state
log: { level: info }
pipelines:
  - name: e2e
    source: { plugin: file, config: { path: "$src"$src_extra } }
    sink: { plugin: file, config: { path: "$sink" } }
    batch: { max_records: 500, max_wait: 100ms }
    restart: { max_failures: 1, backoff_initial: 10ms, backoff_max: 10ms }
    errors: { tolerance: $tolerance, dead_letter: { plugin: file, config: { path: "$work/out/dead.jsonl" } } }
$more
YAML
}

# run CONFIG LOG: runs rdapsync in the foreground; sets $status.
run() {
  status=0
  "$RDAPSYNC_BIN" run "$1" >"$2" 2>&1 || status=$?
}

# start CONFIG LOG: runs rdapsync in the background; sets $rdapsync_pid.
start() {
  "$RDAPSYNC_BIN" run "$1" >>"$2" 2>&1 &
  rdapsync_pid=$!
}

# wait_exit: waits for the background rdapsync; sets $status.
wait_exit() {
  status=0
  wait "$rdapsync_pid" || status=$?
  rdapsync_pid=
}

# random_ms LOW HIGH
random_ms() { echo $(( $1 + RANDOM % ($2 - $1 + 1) )); }
sleep_ms() { sleep "$(printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )))"; }
