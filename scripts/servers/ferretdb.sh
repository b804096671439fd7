#!/usr/bin/env bash
# FerretDB v1.24.2 (MongoDB wire protocol over SQLite) on 127.0.0.1, for
# integration tests.
#
#   ferretdb.sh start|stop|status|env
#
# The binary is built once from the Go module proxy into
# ~/.cache/rdapsync/ferretdb-v1.24.2/ferretdb, with a Go >= 1.24 that
# scripts/go-toolchain.sh finds or fetches (Debian 12's Go 1.19 is too old:
# it fetches Go 1.24 from the Go module proxy with it). A plain
# `go install …/cmd/ferretdb@v1.24.2` gives a binary that panics at start
# ("Invalid build/version/version.txt": the file is generated, not in the
# module, and the module cache is read-only), so this script builds from a
# writable copy of the module with build/version/version.txt written.
# Ports: RDAPSYNC_MONGO_PORT (57017), RDAPSYNC_FERRETDB_DEBUG_PORT (58088,
# FerretDB's debug/metrics HTTP handler). Data in $RDAPSYNC_SERVERS_DIR/ferretdb/.
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
SERVER_NAME=ferretdb
# shellcheck source=scripts/servers/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

FERRETDB_VERSION=v1.24.2
FERRETDB_MODULE=github.com/FerretDB/FerretDB
MONGO_PORT="${RDAPSYNC_MONGO_PORT:-57017}"
DEBUG_PORT="${RDAPSYNC_FERRETDB_DEBUG_PORT:-58088}"
START_TIMEOUT="${RDAPSYNC_FERRETDB_START_TIMEOUT:-30}"
FERRETDB_CACHE="$RDAPSYNC_CACHE_DIR/ferretdb-$FERRETDB_VERSION"
FERRETDB_BIN="$FERRETDB_CACHE/ferretdb"

DIR="$(server_dir ferretdb)"
DATA="$DIR/data"
STATE="$DIR/state"
LOGFILE="$DIR/ferretdb.log"
PIDFILE="$DIR/ferretdb.pid"
PING_SRC="$RDAPSYNC_SERVERS_SCRIPTS/mongo_ping.c"
PING_BIN="$DIR/mongo_ping"
MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT/"

# go build of ./cmd/ferretdb in the prepared copy WORK (run in the background
# by ensure_binary, output to the build log).
go_build_ferretdb() {
  cd "$1" && "$GO" build -trimpath -buildvcs=false -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb
}

# Builds the FerretDB binary once (workaround: writable copy of the module
# with build/version/version.txt, then `go build ./cmd/ferretdb`), with a Go
# >= 1.24 from scripts/go-toolchain.sh: the one on PATH when new enough, else
# one it fetches with the machine's older Go (Debian 12's is 1.19).
ensure_binary() {
  if [[ -x "$FERRETDB_BIN" ]]; then
    return 0
  fi
  lock_cache "$FERRETDB_CACHE"
  if [[ -x "$FERRETDB_BIN" ]]; then
    unlock_cache
    return 0  # built by another run while we waited for the lock
  fi
  local t0; t0="$(now_ms)"
  GO="$(bash "$RDAPSYNC_SERVERS_SCRIPTS/../go-toolchain.sh" 1.24)" \
    || die "FerretDB $FERRETDB_VERSION needs Go >= 1.24 and none could be found or fetched (see above)"
  # That go and no other: no toolchain switching, its own GOROOT.
  export GOTOOLCHAIN=local
  unset GOROOT
  PATH="$(dirname "$GO"):$PATH"
  local gov
  gov="$("$GO" env GOVERSION)"
  log "building FerretDB $FERRETDB_VERSION with $gov ($GO), first run only: 1-2 minutes"
  mkdir -p "$FERRETDB_CACHE"
  local src
  src="$(cd "$FERRETDB_CACHE" && with_retries "go mod download" "$GO" mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" \
          | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -n "$src" && -f "$src/go.mod" ]] || die "go mod download $FERRETDB_MODULE@$FERRETDB_VERSION gave no source folder"
  local work; work="$(mktemp -d "$FERRETDB_CACHE/src.XXXXXX")"
  cp -R "$src/." "$work/"
  chmod -R u+w "$work"
  printf '%s\n' "$FERRETDB_VERSION" >"$work/build/version/version.txt"
  : >"$FERRETDB_CACHE/build.log"
  if ! with_retries "building FerretDB" run_logged "$FERRETDB_CACHE/build.log" "building FerretDB" go_build_ferretdb "$work"; then
    tail_log "$FERRETDB_CACHE/build.log"
    rm -rf "$work"
    die "go build of FerretDB failed"
  fi
  rm -rf "$work"
  # The version check runs at start: make sure this binary does not panic.
  local v
  if ! v="$("$FERRETDB_BIN.tmp" --version 2>&1)" || ! grep -q "$FERRETDB_VERSION" <<<"$v"; then
    printf '%s\n' "$v" >&2
    rm -f "$FERRETDB_BIN.tmp"
    die "the built FerretDB binary does not report version $FERRETDB_VERSION"
  fi
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  unlock_cache
  log "built $FERRETDB_BIN in $(elapsed_s "$t0")s"
}

# Compiles the libmongoc ping client into the run folder when missing or
# older than its source.
ensure_ping() {
  if [[ -x "$PING_BIN" && "$PING_BIN" -nt "$PING_SRC" ]]; then
    return 0
  fi
  pkg-config --exists libmongoc-1.0 || die "libmongoc-1.0 not found by pkg-config (run scripts/deps.sh test)"
  local cc="${CC:-cc}"
  # shellcheck disable=SC2046 # pkg-config output is a list of flags
  "$cc" -O2 -o "$PING_BIN.tmp" "$PING_SRC" $(pkg-config --cflags --libs libmongoc-1.0) \
    || die "cannot compile $PING_SRC"
  mv "$PING_BIN.tmp" "$PING_BIN"
}

mongo_ready() { "$PING_BIN" "$MONGO_URI" 1000; }

is_running() { pidfile_alive "$PIDFILE"; }

cmd_start() {
  ensure_ping
  if is_running; then
    if wait_ready_or_gone "$START_TIMEOUT" "$LOGFILE" \
         "MongoDB ping on $MONGO_URI" is_running mongo_ready; then
      log "already running (pid $(read_pid "$PIDFILE")) on $MONGO_URI"
      return 0
    fi
    log "the previous process is gone, starting a new one"
  fi
  local t0; t0="$(now_ms)"
  ensure_binary
  ensure_port_free 127.0.0.1 "$MONGO_PORT" "FerretDB"
  ensure_port_free 127.0.0.1 "$DEBUG_PORT" "FerretDB debug handler"
  mkdir -p "$DATA" "$STATE"
  spawn "$PIDFILE" "$LOGFILE" "$FERRETDB_BIN" \
    --handler=sqlite \
    --sqlite-url="file:$DATA/" \
    --listen-addr="127.0.0.1:$MONGO_PORT" \
    --debug-addr="127.0.0.1:$DEBUG_PORT" \
    --state-dir="$STATE" \
    --telemetry=disable \
    --log-level="${RDAPSYNC_FERRETDB_LOG_LEVEL:-info}"
  local pid; pid="$(read_pid "$PIDFILE")"
  log "starting pid $pid on $MONGO_URI"
  wait_until "$START_TIMEOUT" "$LOGFILE" "$pid" "MongoDB ping on $MONGO_URI" mongo_ready
  log "ready on $MONGO_URI in $(elapsed_s "$t0")s"
}

cmd_stop() { stop_pidfile "$PIDFILE" "${RDAPSYNC_FERRETDB_STOP_TIMEOUT:-20}"; }

cmd_status() {
  if is_running; then
    ensure_ping
    if mongo_ready 2>/dev/null; then
      echo "ferretdb: running, pid $(read_pid "$PIDFILE"), $MONGO_URI"
      return 0
    fi
    echo "ferretdb: process $(read_pid "$PIDFILE") alive but $MONGO_URI not answering"
    return 1
  fi
  echo "ferretdb: stopped"
  return 3
}

cmd_env() { printf "export RDAPSYNC_MONGO_URI=%s\n" "$MONGO_URI"; }

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) rc=0; cmd_status || rc=$?; exit "$rc" ;;
  env) cmd_env ;;
  *) usage_exit "{start|stop|status|env}" ;;
esac
