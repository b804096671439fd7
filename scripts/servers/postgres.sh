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
# shellcheck disable=SC2034 # read by common.sh
SERVER_NAME=postgres
# shellcheck source=scripts/servers/common.sh
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

# The OS user must be able to reach the run folder (pg_ctl status too).
if [[ "$(id -u)" -eq 0 ]]; then
  make_reachable "$OS_USER" "$DIR"
fi

# psql over TCP, as a real client would connect.
psql_tcp() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" "$@"
}

pg_ready() { psql_tcp -d postgres -Atc 'select 1' 2>/dev/null | grep -qx 1; }

postmaster_pid() { { head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true; } | tr -dc '0-9'; }

# pg_ctl status alone counts a killed postmaster that is still a zombie (or
# not yet reaped) as running: also ask for a live, non-zombie process.
is_running() {
  [[ -f "$DATA/PG_VERSION" ]] || return 1
  pid_alive "$(postmaster_pid)" || return 1
  pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

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

# After a kill -9 the old postmaster stays a zombie until init reaps it, and
# PostgreSQL's own stale-lock check (kill(pid, 0)) then refuses to start
# ("lock file postmaster.pid already exists"). Wait for the reaping; if it
# does not come, remove the lock file of the dead process.
clear_dead_postmaster() {
  local pid; pid="$(postmaster_pid)"
  [[ -n "$pid" ]] || return 0
  pid_alive "$pid" && return 0
  local _
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  log "postmaster $pid is dead but not reaped: removing its stale postmaster.pid"
  rm -f "$DATA/postmaster.pid"
}

cmd_start() {
  local t0; t0="$(now_ms)"
  mkdir -p "$SOCK"
  is_running || rotate_log "$LOGFILE"
  touch "$LOGFILE"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown "$OS_USER:" "$SOCK" "$LOGFILE"
    if [[ -d "$DATA" && "$(stat -c %U "$DATA")" != "$OS_USER" ]]; then
      chown -R "$OS_USER:" "$DATA"
    fi
  fi
  local sockpath="$SOCK/.s.PGSQL.$PG_PORT"
  (( ${#sockpath} < 100 )) || die "socket path $sockpath is too long for a Unix socket; use a shorter RDAPSYNC_SERVERS_DIR"

  if is_running; then
    if wait_ready_or_gone "$PG_TIMEOUT" "$LOGFILE" "psql on 127.0.0.1:$PG_PORT" \
         is_running pg_ready; then
      log "already running (pid $(postmaster_pid)) on 127.0.0.1:$PG_PORT"
      postmaster_pid >"$PIDFILE"
      ensure_db
      return 0
    fi
    log "the previous postmaster is gone, starting a new one"
  fi
  [[ -f "$DATA/PG_VERSION" ]] || init_cluster
  clear_dead_postmaster
  ensure_port_free 127.0.0.1 "$PG_PORT" "PostgreSQL"
  write_config
  printf '\n===== %s start\n' "$(date '+%F %T')" >>"$LOGFILE"
  # shellcheck disable=SC2034 # read by fail_with_log in common.sh
  START_FAILED_HOOK=stop_after_failure
  # shellcheck disable=SC2094 # pg_ctl and this redirect both append
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

stop_after_failure() {
  log "stopping the failed server"
  pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
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
  status) rc=0; cmd_status || rc=$?; exit "$rc" ;;
  env) cmd_env ;;
  *) usage_exit "{start|stop|status|env}" ;;
esac
