# Shared by the fault tests: environment checks, a scratch folder, the
# endpoint probe, waiting on events, and a place to keep every log for the
# secrets check (secrets_in_logs.sh). Source it.
#
# CTest gives RDAPSYNC_SOURCE_DIR, RDAPSYNC_BINARY_DIR, RDAPSYNC_BIN and
# RDAPSYNC_PLUGIN_PATH (rdapsync_add_script_test).
set -euo pipefail

TEST_NAME="${TEST_NAME:-$(basename "$0" .sh)}"
FAULTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }
fail() {
  log "FAIL: $*"
  for f in ${FAIL_LOGS:-}; do
    [[ -f "$f" ]] && { log "--- last lines of $f ---"; tail -n 30 "$f" >&2; }
  done
  exit 1
}

for var in RDAPSYNC_SOURCE_DIR RDAPSYNC_BINARY_DIR RDAPSYNC_BIN RDAPSYNC_PLUGIN_PATH; do
  [[ -n "${!var:-}" ]] || fail "$var is not set (run through ctest)"
done
[[ -x "$RDAPSYNC_BIN" ]] || fail "no rdapsync binary at $RDAPSYNC_BIN"
command -v python3 >/dev/null || fail "python3 is needed (endpoint probe, checks)"
export RDAPSYNC_PLUGIN_PATH
# Plain progress lines, not a status line: logs are files here.
export RDAPSYNC_PROGRESS=plain

# The test-only plugins (sink-flaky.so) built next to this folder's build.
FAULT_PLUGINS="$RDAPSYNC_BINARY_DIR/tests/integration/faults/plugins"
# Every log a fault test writes is copied here; secrets_in_logs.sh greps them.
FAULT_LOGS="$RDAPSYNC_BINARY_DIR/tests/integration/faults/logs"
mkdir -p "$FAULT_LOGS"

# The secret values these tests configure (through ${env:...}); none may
# ever appear in a log, /status or /metrics.
export RDAPSYNC_FAULTS_SECRET="faults-secret-7f3a9c1e-do-not-log"
export RDAPSYNC_FAULTS_SECRET_PATH="missing-dir-b41d6e02-secret/in.jsonl"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
RDAPSYNC_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$RDAPSYNC_PID" ]] && kill -0 "$RDAPSYNC_PID" 2>/dev/null; then
    kill -KILL "$RDAPSYNC_PID" 2>/dev/null || true
  fi
  keep_logs
  if [[ $rc -eq 0 && -z "${KEEP_WORK:-}" ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup EXIT
cd "$WORK"

# keep_logs: copies *.log of the work folder to FAULT_LOGS (test-prefixed).
keep_logs() {
  local f
  for f in "$WORK"/*.log; do
    [[ -f "$f" ]] && cp "$f" "$FAULT_LOGS/$TEST_NAME-$(basename "$f")"
  done
  return 0
}

# free_port: a TCP port nobody listens on right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

probe() { python3 "$FAULTS_DIR/probe.py" "$@"; }

# start CONFIG LOG: rdapsync in the background; sets RDAPSYNC_PID.
start() {
  "$RDAPSYNC_BIN" run "$1" >>"$2" 2>&1 &
  RDAPSYNC_PID=$!
}

# stop_wait: waits for the background rdapsync; sets STATUS.
wait_exit() {
  STATUS=0
  wait "$RDAPSYNC_PID" 2>/dev/null || STATUS=$? # no "Killed" job notice
  RDAPSYNC_PID=""
}

# wait_until DESCRIPTION CMD...: polls CMD every 0.1 s. Events decide; the
# bound (WAIT_LIMIT_S, default 300 s) only keeps a hung run from hanging CI.
wait_until() {
  local what="$1"; shift
  local deadline=$((SECONDS + ${WAIT_LIMIT_S:-300}))
  until "$@" >/dev/null 2>&1; do
    if [[ -n "$RDAPSYNC_PID" ]] && ! kill -0 "$RDAPSYNC_PID" 2>/dev/null; then
      fail "rdapsync exited while waiting for: $what"
    fi
    (( SECONDS < deadline )) || fail "gave up waiting for: $what"
    sleep 0.1
  done
}

# task_is PORT PIPELINE TASK FIELD VALUE: for wait_until.
task_is() { [[ "$(probe task "$1" "$2" "$3" "$4")" == "$5" ]]; }

rdapgen_bin() {
  local c
  for c in "$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen" "$RDAPSYNC_BINARY_DIR/rdapgen"; do
    [[ -x "$c" ]] && { printf '%s\n' "$c"; return 0; }
  done
  fail "rdapgen not found under $RDAPSYNC_BINARY_DIR (build the rdapgen target)"
}

now_ms() { date +%s%3N; }

# For wait_until (arguments are evaluated at every try, not once):
# metric_is PORT SAMPLE VALUE, lines_at_least FILE N.
metric_is() { [[ "$(probe metric "$1" "$2")" == "$3" ]]; }
lines_at_least() { [[ -f "$1" && "$(wc -l <"$1")" -ge "$2" ]]; }
