# Helpers for the OpenTelemetry integration tests. Source it.
#
# The collector is the project's: `scripts/servers/otelcol.sh start`, then
# `eval` what its `env` verb prints (RDAPSYNC_OTEL_ENDPOINT, where rdapsync
# sends spans, and RDAPSYNC_OTEL_TRACES, the file its file exporter writes).
# A test without them fails (CI always starts the servers). Each test names
# its pipeline after its run, and reads only the spans of that pipeline:
# tests may share the collector.
set -euo pipefail

: "${RDAPSYNC_SOURCE_DIR:?run through ctest (RDAPSYNC_SOURCE_DIR is not set)}"
: "${RDAPSYNC_BINARY_DIR:?run through ctest (RDAPSYNC_BINARY_DIR is not set)}"
: "${RDAPSYNC_BIN:?run through ctest (RDAPSYNC_BIN is not set)}"
: "${RDAPSYNC_PLUGIN_PATH:?run through ctest (RDAPSYNC_PLUGIN_PATH is not set)}"

TEST_NAME="${TEST_NAME:-$(basename "$0" .sh)}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

command -v python3 >/dev/null || fail "python3 not found (it checks the spans)"
command -v curl >/dev/null || fail "curl not found (it reads /metrics)"

# need_collector: the shared collector must be up.
need_collector() {
  [[ -n "${RDAPSYNC_OTEL_ENDPOINT:-}" && -n "${RDAPSYNC_OTEL_TRACES:-}" ]] ||
    fail "RDAPSYNC_OTEL_ENDPOINT / RDAPSYNC_OTEL_TRACES are not set: start the collector with scripts/servers/otelcol.sh start and export what 'scripts/servers/otelcol.sh env' prints"
  curl -s -o /dev/null --max-time 5 -H 'Content-Type: application/json' -d '{"resourceSpans":[]}' \
    "$RDAPSYNC_OTEL_ENDPOINT/v1/traces" || fail "no collector answers at $RDAPSYNC_OTEL_ENDPOINT"
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
STARTED_PIDS=()
cleanup_work() {
  local rc=$? pid
  for pid in "${STARTED_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ -n "${CLEANUP_HOOK:-}" ]]; then "$CLEANUP_HOOK" || true; fi
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup_work EXIT
cd "$WORK"

RUN_ID="$(printf '%s_%s_%s' "$TEST_NAME" "$$" "$(date +%s)" | tr -c 'a-z0-9_\n' '_')"

# A free TCP port on loopback (the kernel picks one).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# A traceparent: a random trace id and parent span id, sampled.
new_traceparent() { python3 -c 'import secrets; print("00-%s-%s-01" % (secrets.token_hex(16), secrets.token_hex(8)))'; }

start_rdapsync() {
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run "$1" >>"$2" 2>&1 &
  RDAPSYNC_PID=$!
  STARTED_PIDS+=("$RDAPSYNC_PID")
}

# stop_rdapsync PID LOG: SIGTERM, then the exit status must be 0 (drained).
stop_rdapsync() {
  local pid="$1" logfile="$2" rc=0
  kill -TERM "$pid" 2>/dev/null || fail "rdapsync $pid is not running (see $logfile)"
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || { tail -n 30 "$logfile" >&2; fail "rdapsync exited with status $rc after SIGTERM"; }
}

alive() { kill -0 "$1" 2>/dev/null || { tail -n 30 "$2" >&2; fail "rdapsync $1 died (see $2)"; }; }

# wait_for TIMEOUT_S DESCRIPTION PID LOG CMD...: polls CMD every 0.5 s
# (while PID lives, when given).
wait_for() {
  local timeout_s="$1" what="$2" pid="$3" logfile="$4"; shift 4
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    [[ -z "$pid" ]] || alive "$pid" "$logfile"
    (( SECONDS < deadline )) || fail "timed out after ${timeout_s}s waiting for: $what"
    sleep 0.5
  done
}

# spans CMD ARGS...: spans.py on the collector's file.
spans() { local cmd="$1"; shift; python3 "$HERE/spans.py" "$cmd" "$RDAPSYNC_OTEL_TRACES" "$@"; }
# spans_at_least PIPELINE NAME N: true once N spans called NAME arrived.
spans_at_least() { [[ "$(spans count "$1" "$2")" -ge "$3" ]]; }
# batches_hold PIPELINE N: true once the batch spans count N records.
batches_hold() { [[ "$(spans count "$1" batch --sum-records)" -ge "$2" ]]; }

# metric URL SAMPLE: the value of one sample on /metrics, e.g.
# rdapsync_otel_spans_dropped_total or NAME{pipeline="p",task="0"}.
metric() { curl -s --max-time 5 "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }
# metric_at_least URL SAMPLE N
metric_at_least() { local v; v="$(metric "$1" "$2")"; [[ -n "$v" ]] && (( ${v%.*} >= $3 )); }
