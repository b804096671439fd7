#!/usr/bin/env bash
# An OpenTelemetry Collector on 127.0.0.1, for the traces' integration
# tests: its otlp receiver (OTLP/HTTP only) and its file exporter, which
# writes every trace it receives as one JSON line to a file.
#
#   otelcol.sh start|stop|status|env|build
#
# The collector is built once from the Go module proxy with the
# OpenTelemetry Collector Builder (go.opentelemetry.io/collector/cmd/builder)
# from a manifest of just those two components, all at one release (core
# v0.161.0 with its v1.67.0 modules, contrib fileexporter v0.161.0: newer
# fileexporter releases did not resolve). The binary goes to
# ~/.cache/rdapsync/otelcol-0.161.0/bin (RDAPSYNC_CACHE_DIR moves it), the
# modules to Go's module cache: a rerun finds the binary and starts at once.
# The first build takes several minutes on 2 cores (under `nice -n 19`).
# The modules need Go 1.26: the machine's Go when it is that new, else
# scripts/go-toolchain.sh fetches RDAPSYNC_OTELCOL_GO_TOOLCHAIN (go1.27.3)
# from the Go module proxy.
#
# Port: RDAPSYNC_OTEL_PORT (54318), OTLP/HTTP. Traces go to
# $RDAPSYNC_SERVERS_DIR/otelcol/traces.jsonl (`env` prints it as
# RDAPSYNC_OTEL_TRACES). The file exporter flushes every 100 ms.
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
SERVER_NAME=otelcol
# shellcheck source=scripts/servers/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

OTELCOL_VERSION=0.161.0
OTELCOL_V1=1.67.0
GO_TOOLCHAIN="${RDAPSYNC_OTELCOL_GO_TOOLCHAIN:-go1.27.3}"
OTEL_PORT="${RDAPSYNC_OTEL_PORT:-54318}"
START_TIMEOUT="${RDAPSYNC_OTEL_START_TIMEOUT:-30}"
CACHE="$RDAPSYNC_CACHE_DIR/otelcol-$OTELCOL_VERSION"
BIN="$CACHE/bin/otelcol-rdapsync"

DIR="$(server_dir otelcol)"
LOGFILE="$DIR/otelcol.log"
PIDFILE="$DIR/otelcol.pid"
CONFIG="$DIR/config.yaml"
TRACES="$DIR/traces.jsonl"
URL="http://127.0.0.1:$OTEL_PORT"

# The builder's manifest: only what the tests use (the env provider is
# the collector's default scheme: it refuses to start without it).
write_manifest() {
  cat >"$1" <<EOF
dist:
  name: otelcol-rdapsync
  description: OpenTelemetry Collector for the rdapsync tests (otlp receiver, file exporter)
  output_path: $2
  version: $OTELCOL_VERSION
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver v$OTELCOL_VERSION
exporters:
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter v$OTELCOL_VERSION
providers:
  - gomod: go.opentelemetry.io/collector/confmap/provider/envprovider v$OTELCOL_V1
  - gomod: go.opentelemetry.io/collector/confmap/provider/fileprovider v$OTELCOL_V1
EOF
}

ensure_binary() {
  [[ -x "$BIN" ]] && return 0
  lock_cache "$CACHE"
  if [[ -x "$BIN" ]]; then
    unlock_cache
    return 0
  fi
  local go t0 tmp="$CACHE/build" blog="$CACHE/build.log"
  # The collector's modules at this release say `go 1.26.0`: the machine's
  # Go when it is that new, else go-toolchain.sh fetches $GO_TOOLCHAIN.
  go="$(RDAPSYNC_GO_TOOLCHAIN="$GO_TOOLCHAIN" bash "$RDAPSYNC_SERVERS_SCRIPTS/../go-toolchain.sh" 1.26)" ||
    die "no Go 1.26 toolchain (scripts/go-toolchain.sh)"
  t0="$(now_ms)"
  log "building the collector $OTELCOL_VERSION with $("$go" version | cut -d' ' -f3) (first run only, several minutes on 2 cores)"
  rm -rf "$tmp"
  mkdir -p "$tmp/gobin"
  : >"$blog"
  # The builder itself, then the collector it generates; GOTOOLCHAIN=local
  # keeps the chosen go from switching toolchains.
  export GOTOOLCHAIN=local GOFLAGS=-mod=mod
  if ! with_retries "building the collector builder" run_logged "$blog" "building the collector builder" \
      env GOBIN="$tmp/gobin" nice -n 19 "$go" install "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION"; then
    tail_log "$blog"
    die "go install of the collector builder v$OTELCOL_VERSION failed"
  fi
  write_manifest "$tmp/manifest.yaml" "$tmp/dist"
  if ! with_retries "building the collector" run_logged "$blog" "building the collector" \
      env PATH="$(dirname "$go"):$PATH" nice -n 19 "$tmp/gobin/builder" --config "$tmp/manifest.yaml"; then
    tail_log "$blog"
    die "the collector builder failed"
  fi
  [[ -x "$tmp/dist/otelcol-rdapsync" ]] || die "the builder made no $tmp/dist/otelcol-rdapsync"
  mkdir -p "$CACHE/bin"
  mv -f "$tmp/dist/otelcol-rdapsync" "$BIN"
  rm -rf "$tmp"
  unlock_cache
  log "built $BIN in $(elapsed_s "$t0")s"
}

write_config() {
  cat >"$CONFIG" <<EOF
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$OTEL_PORT
exporters:
  file:
    path: $TRACES
    format: json
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
EOF
}

# The receiver answers a POST of an empty JSON export with 200.
otel_ready() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'Content-Type: application/json' \
    -d '{"resourceSpans":[]}' "$URL/v1/traces" || true)"
  [[ "$code" == 200 ]]
}

is_running() { pidfile_alive "$PIDFILE"; }

cmd_start() {
  if is_running; then
    if wait_ready_or_gone "$START_TIMEOUT" "$LOGFILE" "OTLP on $URL" is_running otel_ready; then
      log "already running (pid $(read_pid "$PIDFILE")) on $URL"
      return 0
    fi
    log "the previous process is gone, starting a new one"
  fi
  command -v curl >/dev/null || die "curl not found (scripts/deps.sh test)"
  ensure_binary
  local t0; t0="$(now_ms)"
  ensure_port_free 127.0.0.1 "$OTEL_PORT" "otelcol"
  write_config
  spawn "$PIDFILE" "$LOGFILE" "$BIN" --config "$CONFIG"
  local pid; pid="$(read_pid "$PIDFILE")"
  log "starting pid $pid on $URL"
  wait_until "$START_TIMEOUT" "$LOGFILE" "$pid" "OTLP on $URL" otel_ready
  log "ready on $URL in $(elapsed_s "$t0")s"
}

cmd_stop() { stop_pidfile "$PIDFILE" "${RDAPSYNC_OTEL_STOP_TIMEOUT:-10}"; }

cmd_status() {
  if is_running; then
    if otel_ready; then
      echo "otelcol: running, pid $(read_pid "$PIDFILE"), $URL"
      return 0
    fi
    echo "otelcol: process $(read_pid "$PIDFILE") alive but $URL not answering"
    return 1
  fi
  echo "otelcol: stopped"
  return 3
}

cmd_env() {
  printf 'export RDAPSYNC_OTEL_ENDPOINT=%s\n' "$URL"
  printf 'export RDAPSYNC_OTEL_TRACES=%s\n' "$TRACES"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) rc=0; cmd_status || rc=$?; exit "$rc" ;;
  env) cmd_env ;;
  build) ensure_binary ;;
  *) usage_exit "{start|stop|status|env|build}" ;;
esac
