#!/usr/bin/env bash
# PostgreSQL 15 (Debian's package) on 127.0.0.1, for integration tests.
#
#   postgres.sh start|stop|status|env
#
# Port RDAPSYNC_PG_PORT (55432); data, log and Unix socket in
# $RDAPSYNC_SERVERS_DIR/postgres/. wal_level=logical, fsync on, trust
# authentication on 127.0.0.1 and the socket, superuser `postgres`, database
# `rdapsync`. As root the server runs as the `postgres` OS user (the data
# folder belongs to it); otherwise as the current user.
set -euo pipefail
SERVER_NAME=postgres
# shellcheck source=common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

PG_PORT="${RDAPSYNC_PG_PORT:-55432}"
PG_BIN="${RDAPSYNC_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_TIMEOUT="${RDAPSYNC_PG_START_TIMEOUT:-60}"
PG_DB=rdapsync
PG_SUPERUSER=postgres

DIR="$(server_dir postgres)"
DATA="$DIR/data"
SOCK="$DIR/sock"
LOGFILE="$DIR/postgres.log"
# pg_ctl keeps the postmaster's pid in $DATA/postmaster.pid; this file is a
# copy for people and tools that look for "<name>.pid" in the run folder.
PIDFILE="$DIR/postgres.pid"

if [[ "$(id -u)" -eq 0 ]]; then
  OS_USER="${RDAPSYNC_PG_OS_USER:-postgres}"
  id -u "$OS_USER" >/dev/null 2>&1 || die "OS user $OS_USER does not exist (install postgresql: scripts/deps.sh test)"
else
  OS_USER="$(id -un)"
fi

[[ -x "$PG_BIN/pg_ctl" ]] || die "$PG_BIN/pg_ctl not found (install postgresql: scripts/deps.sh test, or set RDAPSYNC_PG_BIN)"

pg() { as_user "$OS_USER" "$@"; }

# psql over TCP, as a real client would connect.
psql_tcp() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" "$@"
}

pg_ready() { psql_tcp -d postgres -Atc 'select 1' 2>/dev/null | grep -qx 1; }

is_running() {
  [[ -f "$DATA/PG_VERSION" ]] || return 1
  pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

postmaster_pid() { head -n 1 "$DATA/postmaster.pid" 2>/dev/null | tr -dc '0-9'; }

write_config() {
  cat >"$DATA/rdapsync.conf" <<CONF
# Written by scripts/servers/postgres.sh at every start.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCK'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
fsync = on
synchronous_commit = on
max_connections = 100
shared_buffers = 128MB
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
CONF
  cat >"$DATA/pg_hba.conf" <<HBA
# Written by scripts/servers/postgres.sh: trust on the socket and 127.0.0.1.
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
HBA
  if [[ "$(id -u)" -eq 0 ]]; then
    chown "$OS_USER:" "$DATA/rdapsync.conf" "$DATA/pg_hba.conf"
  fi
  chmod 600 "$DATA/rdapsync.conf" "$DATA/pg_hba.conf"
}

init_cluster() {
  log "initdb into $DATA"
  rm -rf "$DATA.tmp"
  mkdir -p "$DATA.tmp"
  [[ "$(id -u)" -eq 0 ]] && chown "$OS_USER:" "$DATA.tmp"
  chmod 700 "$DATA.tmp"
  if ! pg "$PG_BIN/initdb" -D "$DATA.tmp" -U "$PG_SUPERUSER" -A trust \
          -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1; then
    fail_with_log "$DIR/initdb.log" "initdb failed"
  fi
  printf "\ninclude = 'rdapsync.conf'\n" >>"$DATA.tmp/postgresql.conf"
  mv "$DATA.tmp" "$DATA"
}

cmd_start() {
  local t0; t0="$(now_ms)"
  if [[ "$(id -u)" -eq 0 ]]; then
    make_reachable "$OS_USER" "$DIR"
  fi
  mkdir -p "$SOCK"
  touch "$LOGFILE"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown "$OS_USER:" "$SOCK" "$LOGFILE"
    [[ -d "$DATA" ]] && chown -R "$OS_USER:" "$DATA"
  fi
  local sockpath="$SOCK/.s.PGSQL.$PG_PORT"
  (( ${#sockpath} < 100 )) || die "socket path $sockpath is too long for a Unix socket; use a shorter RDAPSYNC_SERVERS_DIR"

  if is_running; then
    if pg_ready; then
      log "already running (pid $(postmaster_pid)) on 127.0.0.1:$PG_PORT"
      postmaster_pid >"$PIDFILE"
      ensure_db
      return 0
    fi
    log "server is up but 127.0.0.1:$PG_PORT does not answer, waiting"
    wait_until "$PG_TIMEOUT" "$LOGFILE" "" "psql on 127.0.0.1:$PG_PORT" pg_ready
    ensure_db
    return 0
  fi
  [[ -f "$DATA/PG_VERSION" ]] || init_cluster
  ensure_port_free 127.0.0.1 "$PG_PORT" "PostgreSQL"
  write_config
  printf '\n===== %s start\n' "$(date '+%F %T')" >>"$LOGFILE"
  if ! pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t "$PG_TIMEOUT" start >/dev/null 2>>"$LOGFILE"; then
    fail_with_log "$LOGFILE" "pg_ctl start failed"
  fi
  wait_until "$PG_TIMEOUT" "$LOGFILE" "" "psql on 127.0.0.1:$PG_PORT" pg_ready
  postmaster_pid >"$PIDFILE"
  ensure_db
  log "ready on 127.0.0.1:$PG_PORT (pid $(postmaster_pid)) in $(elapsed_s "$t0")s"
}

ensure_db() {
  if [[ "$(psql_tcp -d postgres -Atc "select 1 from pg_database where datname = '$PG_DB'")" != 1 ]]; then
    psql_tcp -d postgres -c "create database $PG_DB" >/dev/null
    log "created database $PG_DB"
  fi
}

cmd_stop() {
  if ! is_running; then
    log "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  local pid; pid="$(postmaster_pid)"
  log "stopping pid $pid (pg_ctl -m fast)"
  if ! pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t "${RDAPSYNC_PG_STOP_TIMEOUT:-60}" stop >/dev/null 2>>"$LOGFILE"; then
    log "fast shutdown did not finish, trying immediate"
    pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>>"$LOGFILE" || true
  fi
  # Make sure the postmaster (and so all its children) is gone.
  if pid_alive "$pid"; then
    kill_tree "$pid" 10
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

cmd_status() {
  if is_running; then
    if pg_ready; then
      echo "postgres: running, pid $(postmaster_pid), 127.0.0.1:$PG_PORT"
      return 0
    fi
    echo "postgres: pid $(postmaster_pid) alive but 127.0.0.1:$PG_PORT not answering"
    return 1
  fi
  echo "postgres: stopped"
  return 3
}

cmd_env() {
  printf "export RDAPSYNC_PG_DSN='host=127.0.0.1 port=%s dbname=%s user=%s'\n" \
    "$PG_PORT" "$PG_DB" "$PG_SUPERUSER"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) usage_exit "{start|stop|status|env}" ;;
esac
