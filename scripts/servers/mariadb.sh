#!/usr/bin/env bash
# MariaDB (Debian's package) on 127.0.0.1, for integration tests.
#
#   mariadb.sh start|stop|status|env
#
# Port RDAPSYNC_MYSQL_PORT (53306); data folder, socket, pid file and log in
# $RDAPSYNC_SERVERS_DIR/mariadb/. No option file is read (--no-defaults), so
# the machine's /etc/mysql settings do not leak in. Creates the database
# `rdapsync` and the user `rdapsync`/`rdapsync` (from 127.0.0.1 and
# localhost). root@localhost has no password (loopback-only test server).
# As root the server runs with --user=root (no ownership changes needed);
# otherwise as the current user.
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
SERVER_NAME=mariadb
# shellcheck source=scripts/servers/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

MYSQL_PORT="${RDAPSYNC_MYSQL_PORT:-53306}"
MYSQL_TIMEOUT="${RDAPSYNC_MYSQL_START_TIMEOUT:-60}"
MYSQL_DB=rdapsync
MYSQL_USER=rdapsync
MYSQL_PASSWORD=rdapsync

DIR="$(server_dir mariadb)"
DATA="$DIR/data"
SOCKET="$DIR/mariadb.sock"
LOGFILE="$DIR/mariadb.log"
PIDFILE="$DIR/mariadb.pid"

find_bin() { # NAME... -> first one found
  local n
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    if [[ -x "/usr/sbin/$n" ]]; then printf '%s\n' "/usr/sbin/$n"; return 0; fi
  done
  return 1
}
MARIADBD="$(find_bin mariadbd mysqld)" || die "mariadbd not found (install mariadb-server: scripts/deps.sh test)"
INSTALL_DB="$(find_bin mariadb-install-db mysql_install_db)" || die "mariadb-install-db not found (install mariadb-server)"
CLIENT="$(find_bin mariadb mysql)" || die "mariadb client not found (install mariadb-client)"
ADMIN="$(find_bin mariadb-admin mysqladmin)" || die "mariadb-admin not found (install mariadb-client)"

USER_ARGS=()
if [[ "$(id -u)" -eq 0 ]]; then
  USER_ARGS=(--user=root)
fi

root_sql() { # SQL on stdin, over the socket as root (no password)
  "$CLIENT" --no-defaults --protocol=socket --socket="$SOCKET" -uroot
}
root_ping() { "$ADMIN" --no-defaults --protocol=socket --socket="$SOCKET" -uroot --connect-timeout=2 ping; }
# The check a test would do: TCP, as the test user, into the test database.
user_ready() {
  "$CLIENT" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MYSQL_PORT" \
    -u"$MYSQL_USER" -p"$MYSQL_PASSWORD" --connect-timeout=2 -N -B \
    -e 'select 1' "$MYSQL_DB" 2>/dev/null | grep -qx 1
}

is_running() { pidfile_alive "$PIDFILE"; }

init_datadir() {
  log "mariadb-install-db into $DATA"
  rm -rf "$DATA.tmp"
  mkdir -p "$DATA.tmp"
  if ! "$INSTALL_DB" --no-defaults --datadir="$DATA.tmp" "${USER_ARGS[@]}" \
         --auth-root-authentication-method=normal --skip-test-db \
         --skip-name-resolve >"$DIR/install-db.log" 2>&1; then
    fail_with_log "$DIR/install-db.log" "mariadb-install-db failed"
  fi
  mv "$DATA.tmp" "$DATA"
}

setup_db() {
  root_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`$MYSQL_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'localhost' IDENTIFIED BY '$MYSQL_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$MYSQL_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$MYSQL_USER'@'localhost' WITH GRANT OPTION;
SQL
}

cmd_start() {
  local t0; t0="$(now_ms)"
  (( ${#SOCKET} < 100 )) || die "socket path $SOCKET is too long for a Unix socket; use a shorter RDAPSYNC_SERVERS_DIR"
  if is_running; then
    if wait_ready_or_gone "$MYSQL_TIMEOUT" "$LOGFILE" \
         "mariadb-admin ping on $SOCKET" is_running root_ping; then
      local pid; pid="$(read_pid "$PIDFILE")"
      setup_db || fail_with_log "$LOGFILE" "creating database $MYSQL_DB and user $MYSQL_USER failed"
      wait_until "$MYSQL_TIMEOUT" "$LOGFILE" "$pid" "login as $MYSQL_USER on 127.0.0.1:$MYSQL_PORT" user_ready
      log "already running (pid $pid) on 127.0.0.1:$MYSQL_PORT"
      return 0
    fi
    log "the previous process is gone, starting a new one"
  fi
  [[ -d "$DATA/mysql" ]] || init_datadir
  ensure_port_free 127.0.0.1 "$MYSQL_PORT" "MariaDB"
  rm -f "$SOCKET" "$SOCKET.lock"
  # Extra server options, e.g. "--log-bin --binlog-format=ROW --server-id=1".
  local -a extra=()
  if [[ -n "${RDAPSYNC_MYSQL_EXTRA_ARGS:-}" ]]; then
    read -r -a extra <<<"$RDAPSYNC_MYSQL_EXTRA_ARGS"
  fi
  spawn "$PIDFILE" "$LOGFILE" "$MARIADBD" --no-defaults \
    "${USER_ARGS[@]}" \
    --datadir="$DATA" \
    --port="$MYSQL_PORT" \
    --bind-address=127.0.0.1 \
    --socket="$SOCKET" \
    --pid-file="$DIR/mariadbd.pid" \
    --skip-name-resolve \
    --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=256M \
    --innodb-flush-log-at-trx-commit=1 \
    --max-connections=200 \
    "${extra[@]}"
  local pid; pid="$(read_pid "$PIDFILE")"
  log "starting pid $pid on 127.0.0.1:$MYSQL_PORT"
  wait_until "$MYSQL_TIMEOUT" "$LOGFILE" "$pid" "mariadb-admin ping on $SOCKET" root_ping
  setup_db || fail_with_log "$LOGFILE" "creating database $MYSQL_DB and user $MYSQL_USER failed"
  wait_until "$MYSQL_TIMEOUT" "$LOGFILE" "$pid" "login as $MYSQL_USER on 127.0.0.1:$MYSQL_PORT" user_ready
  log "ready on 127.0.0.1:$MYSQL_PORT in $(elapsed_s "$t0")s"
}

cmd_stop() {
  # SIGTERM is mariadbd's normal shutdown; 60 s, then SIGKILL.
  stop_pidfile "$PIDFILE" "${RDAPSYNC_MYSQL_STOP_TIMEOUT:-60}"
  rm -f "$DIR/mariadbd.pid"
}

cmd_status() {
  if is_running; then
    if user_ready; then
      echo "mariadb: running, pid $(read_pid "$PIDFILE"), 127.0.0.1:$MYSQL_PORT"
      return 0
    fi
    echo "mariadb: process $(read_pid "$PIDFILE") alive but 127.0.0.1:$MYSQL_PORT not answering"
    return 1
  fi
  echo "mariadb: stopped"
  return 3
}

cmd_env() {
  printf 'export RDAPSYNC_MYSQL_HOST=127.0.0.1 RDAPSYNC_MYSQL_PORT=%s RDAPSYNC_MYSQL_USER=%s RDAPSYNC_MYSQL_PASSWORD=%s RDAPSYNC_MYSQL_DB=%s\n' \
    "$MYSQL_PORT" "$MYSQL_USER" "$MYSQL_PASSWORD" "$MYSQL_DB"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) rc=0; cmd_status || rc=$?; exit "$rc" ;;
  env) cmd_env ;;
  *) usage_exit "{start|stop|status|env}" ;;
esac
