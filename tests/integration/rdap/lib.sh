# shellcheck shell=bash
# Shared by the rdap source's integration tests. Source it.
#
# Each test runs its own icann-rdap-srv (the binaries of
# scripts/servers/rdap.sh, found through RDAPSYNC_RDAP_BIN_DIR as `rdap.sh
# env` prints it, else in the cache) on a free loopback port with its own
# data folder, so that a test may stop it, change its data or reload it
# without touching anyone else's server. CTest gives RDAPSYNC_SOURCE_DIR,
# RDAPSYNC_BINARY_DIR, RDAPSYNC_BIN and RDAPSYNC_PLUGIN_PATH.
set -euo pipefail

TEST_NAME="${TEST_NAME:-$(basename "$0" .sh)}"
RDAP_TESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

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
export RDAPSYNC_PLUGIN_PATH RDAPSYNC_PROGRESS=plain
[[ -f "$RDAPSYNC_PLUGIN_PATH/source-rdap.so" ]] || fail "no source-rdap.so in $RDAPSYNC_PLUGIN_PATH (libcurl4-openssl-dev missing at build time?)"
RDAP_BIN_DIR="${RDAPSYNC_RDAP_BIN_DIR:-${RDAPSYNC_CACHE_DIR:-$HOME/.cache/rdapsync}/icann-rdap-0.0.30/bin}"
[[ -x "$RDAP_BIN_DIR/rdap-srv" ]] ||
  fail "no rdap-srv in $RDAP_BIN_DIR: build it once with scripts/servers/rdap.sh build (or start)"
command -v python3 >/dev/null || fail "python3 is needed"
command -v curl >/dev/null || fail "curl is needed"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-$TEST_NAME.XXXXXX")"
PIDS=()
RDAPSYNC_PID=""
cleanup() {
  local rc=$? p
  [[ -n "$RDAPSYNC_PID" ]] && kill -KILL "$RDAPSYNC_PID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ $rc -eq 0 && -z "${KEEP_WORK:-}" ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup EXIT
cd "$WORK"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_until DESCRIPTION CMD...: polls CMD every 0.1 s; the bound
# (WAIT_LIMIT_S, default 300 s) only keeps a hung run from hanging CI.
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

# gen_domains COUNT DIR SEED PREFIX [SIZE]: COUNT rdapgen domains of about
# SIZE bytes (1500), one RDAP file each in DIR (file name = ldhName.json,
# names lowercased and made unique with PREFIX), their names in DIR.names.
gen_domains() {
  local count="$1" dir="$2" seed="$3" prefix="$4" size="${5:-1500}"
  mkdir -p "$dir"
  "$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen" --count "$count" --seed "$seed" --size "$size" -o "$dir.jsonl"
  python3 "$RDAP_TESTS/split.py" "$dir.jsonl" "$dir" "$prefix" >"$dir.names"
  rm -f "$dir.jsonl"
}

# srv_start NAME DATA_DIR: a private rdap-srv; sets SRV_PORT_<NAME>, SRV_PID_<NAME>.
srv_start() {
  local name="$1" data="$2" port
  port="$(eval "printf '%s' \"\${SRV_PORT_$name:-}\"")"
  [[ -n "$port" ]] || port="$(free_port)"
  env RDAP_SRV_DATA_DIR="$data" RDAP_SRV_LISTEN_ADDR=127.0.0.1 RDAP_SRV_LISTEN_PORT="$port" RDAP_SRV_LOG=warn \
    "$RDAP_BIN_DIR/rdap-srv" >>"$WORK/srv-$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  eval "SRV_PORT_$name=$port SRV_PID_$name=$pid"
  local probe="http://127.0.0.1:$port/rdap/domain/probe.invalid"
  wait_until "rdap-srv $name on port $port" curl -s -o /dev/null --max-time 2 "$probe"
}

srv_stop() {
  local pid
  pid="$(eval "printf '%s' \"\$SRV_PID_$1\"")"
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# srv_reload DATA_DIR: the running server reads its data folder again, whole.
srv_reload() {
  env RDAP_SRV_DATA_DIR="$1" RDAP_SRV_LOG=warn "$RDAP_BIN_DIR/rdap-srv-store" --reload >/dev/null
}

# proxy_start NAME UPSTREAM_PORT [PROXY_ARGS...]: sets PROXY_PORT_<NAME>.
proxy_start() {
  local name="$1" up="$2"
  shift 2
  python3 "$RDAP_TESTS/proxy.py" 0 "$up" "$WORK/proxy-$name.port" --max-seconds 1800 "$@" >>"$WORK/proxy-$name.log" 2>&1 &
  PIDS+=("$!")
  wait_until "proxy $name" test -s "$WORK/proxy-$name.port"
  eval "PROXY_PORT_$name=$(cat "$WORK/proxy-$name.port")"
}

proxy_stat() { # PORT FIELD (a python expression on the stats dict s)
  curl -s "http://127.0.0.1:$1/_stats" | python3 -c "import json,sys; s=json.load(sys.stdin); print($2)"
}

start_rdapsync() { # CONFIG LOG
  "$RDAPSYNC_BIN" run "$1" >>"$2" 2>&1 &
  RDAPSYNC_PID=$!
}

wait_exit() {
  STATUS=0
  wait "$RDAPSYNC_PID" 2>/dev/null || STATUS=$?
  RDAPSYNC_PID=""
}

lines_at_least() { [[ -f "$1" && "$(wc -l <"$1")" -ge "$2" ]]; }
count_lines() { if [[ -f "$1" ]]; then wc -l <"$1"; else echo 0; fi; }

check() { python3 "$RDAP_TESTS/check.py" "$@"; }
