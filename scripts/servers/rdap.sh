#!/usr/bin/env bash
# ICANN's RDAP server (icann-rdap-srv 0.0.30, crates.io) on 127.0.0.1, for
# the rdap source's integration tests and benchmark.
#
#   rdap.sh start|stop|status|env|build|build-server|build-client
#
# The binaries (rdap-srv, rdap-srv-store, rdap-srv-data) are built once with
# Debian's cargo (cargo-web/rustc-web 1.96 from bookworm-security, installed
# as /usr/bin/cargo) into ~/.cache/rdapsync/icann-rdap-0.0.30/bin; about 12
# minutes and 780 MB of memory on 2 cores, under `nice -n 19`. 0.0.31 and
# later need rust 1.97.1, which Debian 12 does not have. ICANN's client
# (icann-rdap-cli 0.0.30: rdap, rdap-test) is built the same way into
# ~/.cache/rdapsync/icann-rdap-cli-0.0.30/bin (about 17 minutes). `start` and
# `build` build both when missing; `build-server`, `build-client` one.
#
# Port: RDAPSYNC_RDAP_PORT (58480). Data in $RDAPSYNC_SERVERS_DIR/rdap/data:
# every *.json file there is one RDAP object, loaded at start; to change the
# data of a running server, write files into a folder and run
#   RDAP_SRV_DATA_DIR=<data> rdap-srv-store --update <folder>
# (`env` prints the variables for that).
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
SERVER_NAME=rdap
# shellcheck source=scripts/servers/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

RDAP_VERSION=0.0.30
RDAP_PORT="${RDAPSYNC_RDAP_PORT:-58480}"
START_TIMEOUT="${RDAPSYNC_RDAP_START_TIMEOUT:-30}"
RDAP_CACHE="$RDAPSYNC_CACHE_DIR/icann-rdap-$RDAP_VERSION"
RDAP_BIN_DIR="$RDAP_CACHE/bin"
CLI_CACHE="$RDAPSYNC_CACHE_DIR/icann-rdap-cli-$RDAP_VERSION"
# The server and the client come from one workspace and share most of their
# ~250 dependencies: one build tree for both compiles those once, not twice
# (cargo locks the tree itself, so two first runs cannot corrupt it).
TARGET_DIR="$RDAPSYNC_CACHE_DIR/icann-rdap-$RDAP_VERSION-target"
# Debian's toolchain first: a rustup toolchain elsewhere on PATH is not what
# a bare Debian 12 has.
CARGO="${RDAPSYNC_CARGO:-/usr/bin/cargo}"

DIR="$(server_dir rdap)"
DATA="$DIR/data"
LOGFILE="$DIR/rdap-srv.log"
PIDFILE="$DIR/rdap-srv.pid"
BASE_URL="http://127.0.0.1:$RDAP_PORT/rdap/"

# Prints a progress line every 30 s while the build runs (it is long).
progress_while() {
  local pid="$1" t0="$2" logf="$3"
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null || break
    log "still building ($(elapsed_s "$t0")s): $(grep -c '^ *Compiling' "$logf" 2>/dev/null || echo 0) crates compiled"
  done
}

# have_bins DIR BIN...: every BIN is an executable in DIR/bin.
have_bins() {
  local dir="$1" b; shift
  for b in "$@"; do [[ -x "$dir/bin/$b" ]] || return 1; done
}

# cargo_build CRATE CACHE_DIR MINUTES BIN...: `cargo install --locked CRATE
# --version $RDAP_VERSION` into CACHE_DIR/bin, unless every BIN is there
# already (the build is long: only when missing). A lock keeps two first
# runs from building at once; a progress line every 30 s.
cargo_build() {
  local crate="$1" cache="$2" minutes="$3"; shift 3
  local bins=("$@")
  have_bins "$cache" "${bins[@]}" && return 0
  [[ -x "$CARGO" ]] || die "$CARGO not found: apt-get install cargo-web rustc-web (bookworm-security; scripts/deps.sh test)"
  lock_cache "$cache"
  if have_bins "$cache" "${bins[@]}"; then
    unlock_cache
    return 0
  fi
  local t0 rc=0; t0="$(now_ms)"
  log "building $crate $RDAP_VERSION with $("$CARGO" --version) (first run only, ~$minutes min on 2 cores)"
  local tmp="$cache.tmp" blog="$cache/build.log"
  rm -rf "$tmp"
  PATH="/usr/bin:/bin:$PATH" CARGO_HOME="${RDAPSYNC_CARGO_HOME:-$RDAPSYNC_CACHE_DIR/cargo-home}" \
    nice -n 19 "$CARGO" install --locked "$crate" --version "$RDAP_VERSION" --root "$tmp" \
    --target-dir "$TARGET_DIR" >"$blog" 2>&1 &
  local pid=$!
  progress_while "$pid" "$t0" "$blog" &
  local progress=$!
  wait "$pid" || rc=$?
  kill "$progress" 2>/dev/null || true
  wait "$progress" 2>/dev/null || true
  if (( rc != 0 )) || [[ ! -x "$tmp/bin/${bins[0]}" ]]; then
    tail_log "$blog"
    rm -rf "$tmp"
    die "cargo install $crate $RDAP_VERSION failed"
  fi
  mkdir -p "$cache/bin"
  mv -f "$tmp"/bin/* "$cache/bin/"
  rm -rf "$tmp"
  unlock_cache
  log "built $cache/bin in $(elapsed_s "$t0")s"
  # Once both crates are built the shared build tree (GBs) has served.
  if have_bins "$RDAP_CACHE" rdap-srv rdap-srv-store && have_bins "$CLI_CACHE" rdap-test rdap; then
    rm -rf "$TARGET_DIR"
  fi
}

ensure_binary() { cargo_build icann-rdap-srv "$RDAP_CACHE" 12 rdap-srv rdap-srv-store; }
# ICANN's client: `rdap`, and `rdap-test`, its conformance checker (the
# judge of tests/integration/rdap/icann_conformance.sh).
ensure_client() { cargo_build icann-rdap-cli "$CLI_CACHE" 17 rdap-test rdap; }

# Any answer from /rdap/ (a 404 for an unknown domain is an answer).
rdap_ready() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${BASE_URL}domain/ready-probe.invalid" || true)"
  [[ "$code" =~ ^[1-5][0-9][0-9]$ ]]
}

is_running() { pidfile_alive "$PIDFILE"; }

cmd_start() {
  if is_running; then
    if wait_ready_or_gone "$START_TIMEOUT" "$LOGFILE" "RDAP on $BASE_URL" is_running rdap_ready; then
      log "already running (pid $(read_pid "$PIDFILE")) on $BASE_URL"
      return 0
    fi
    log "the previous process is gone, starting a new one"
  fi
  command -v curl >/dev/null || die "curl not found (scripts/deps.sh test)"
  ensure_binary
  ensure_client
  local t0; t0="$(now_ms)"
  ensure_port_free 127.0.0.1 "$RDAP_PORT" "rdap-srv"
  mkdir -p "$DATA"
  spawn "$PIDFILE" "$LOGFILE" env RDAP_SRV_DATA_DIR="$DATA" RDAP_SRV_LISTEN_ADDR=127.0.0.1 \
    RDAP_SRV_LISTEN_PORT="$RDAP_PORT" RDAP_SRV_LOG="${RDAPSYNC_RDAP_LOG:-info}" "$RDAP_BIN_DIR/rdap-srv"
  local pid; pid="$(read_pid "$PIDFILE")"
  log "starting pid $pid on $BASE_URL"
  wait_until "$START_TIMEOUT" "$LOGFILE" "$pid" "RDAP on $BASE_URL" rdap_ready
  log "ready on $BASE_URL in $(elapsed_s "$t0")s"
}

cmd_stop() { stop_pidfile "$PIDFILE" "${RDAPSYNC_RDAP_STOP_TIMEOUT:-10}"; }

cmd_status() {
  if is_running; then
    if rdap_ready; then
      echo "rdap: running, pid $(read_pid "$PIDFILE"), $BASE_URL"
      return 0
    fi
    echo "rdap: process $(read_pid "$PIDFILE") alive but $BASE_URL not answering"
    return 1
  fi
  echo "rdap: stopped"
  return 3
}

cmd_env() {
  printf 'export RDAPSYNC_RDAP_URL=%s\n' "$BASE_URL"
  printf 'export RDAPSYNC_RDAP_BIN_DIR=%s\n' "$RDAP_BIN_DIR"
  printf 'export RDAPSYNC_RDAP_DATA_DIR=%s\n' "$DATA"
  printf 'export RDAPSYNC_RDAP_TEST_BIN=%s\n' "$CLI_CACHE/bin/rdap-test"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) rc=0; cmd_status || rc=$?; exit "$rc" ;;
  env) cmd_env ;;
  build) ensure_binary; ensure_client ;;
  build-server) ensure_binary ;;
  build-client) ensure_client ;;
  *) usage_exit "{start|stop|status|env|build|build-server|build-client}" ;;
esac
