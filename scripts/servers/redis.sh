#!/usr/bin/env bash
# Redis 7 (Debian's redis-server) on 127.0.0.1, for integration tests.
#
#   redis.sh start|stop|status|env
#   redis.sh start-replica|stop-replica   # a replica of it, for WAIT tests
#
# Port RDAPSYNC_REDIS_PORT (56379); config, data (the default RDB
# snapshots), log and pid file in $RDAPSYNC_SERVERS_DIR/redis/. Clients must
# authenticate: the ACL user `rdapsync` (password `rdapsync-test`) and the
# default user (password `rdapsync-default`), so the sink's username and
# password options are really used. The replica listens on
# RDAPSYNC_REDIS_REPLICA_PORT (the port + 1), with the same users, its
# files in $RDAPSYNC_SERVERS_DIR/redis/replica/.
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
SERVER_NAME=redis
# shellcheck source=scripts/servers/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

REDIS_PORT="${RDAPSYNC_REDIS_PORT:-56379}"
REDIS_TIMEOUT="${RDAPSYNC_REDIS_START_TIMEOUT:-30}"
REDIS_USER=rdapsync
REDIS_PASSWORD=rdapsync-test
REDIS_DEFAULT_PASSWORD=rdapsync-default
REPLICA_PORT="${RDAPSYNC_REDIS_REPLICA_PORT:-$((REDIS_PORT + 1))}"

DIR="$(server_dir redis)"
PIDFILE="$DIR/redis.pid"
LOGFILE="$DIR/redis.log"
CONF="$DIR/redis.conf"
REPLICA_DIR="$DIR/replica"
REPLICA_PIDFILE="$REPLICA_DIR/redis.pid"
REPLICA_LOGFILE="$REPLICA_DIR/redis.log"

command -v redis-server >/dev/null || die "redis-server not found (Debian package redis-server: scripts/deps.sh test)"
command -v redis-cli >/dev/null || die "redis-cli not found (Debian package redis-tools: scripts/deps.sh test)"

cli() { REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h 127.0.0.1 -p "$REDIS_PORT" --user "$REDIS_USER" "$@"; }
redis_ready() { [[ "$(cli PING 2>/dev/null)" == PONG ]]; }
is_running() { pidfile_alive "$PIDFILE"; }

write_config() {
  cat >"$CONF" <<CONF
# Written by scripts/servers/redis.sh at every start.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize no
dir $DIR
dbfilename dump.rdb
requirepass $REDIS_DEFAULT_PASSWORD
user $REDIS_USER on >$REDIS_PASSWORD ~* &* +@all
CONF
  chmod 600 "$CONF"
}

cmd_start() {
  local t0; t0="$(now_ms)"
  if is_running; then
    if wait_ready_or_gone "$REDIS_TIMEOUT" "$LOGFILE" "PING on 127.0.0.1:$REDIS_PORT" is_running redis_ready; then
      log "already running (pid $(read_pid "$PIDFILE")) on 127.0.0.1:$REDIS_PORT"
      return 0
    fi
    log "the previous server is gone, starting a new one"
  fi
  ensure_port_free 127.0.0.1 "$REDIS_PORT" "Redis"
  write_config
  # LC_ALL=C: the guard script's string comparison (strcoll) is bytewise.
  spawn "$PIDFILE" "$LOGFILE" env LC_ALL=C redis-server "$CONF"
  wait_until "$REDIS_TIMEOUT" "$LOGFILE" "$SPAWNED_PID" "PING on 127.0.0.1:$REDIS_PORT" redis_ready
  log "ready on 127.0.0.1:$REDIS_PORT (pid $SPAWNED_PID) in $(elapsed_s "$t0")s"
}

cmd_stop() {
  if pidfile_alive "$REPLICA_PIDFILE"; then
    stop_pidfile "$REPLICA_PIDFILE" "${RDAPSYNC_REDIS_STOP_TIMEOUT:-30}"
  fi
  stop_pidfile "$PIDFILE" "${RDAPSYNC_REDIS_STOP_TIMEOUT:-30}"
}

# The replica: ready once its link to the primary is up.
replica_ready() {
  REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h 127.0.0.1 -p "$REPLICA_PORT" --user "$REDIS_USER" \
    INFO replication 2>/dev/null | tr -d '\r' | grep -qx 'master_link_status:up'
}

cmd_start_replica() {
  local t0; t0="$(now_ms)"
  redis_ready || die "the primary is not running on 127.0.0.1:$REDIS_PORT (redis.sh start)"
  mkdir -p "$REPLICA_DIR"
  if pidfile_alive "$REPLICA_PIDFILE"; then
    wait_until "$REDIS_TIMEOUT" "$REPLICA_LOGFILE" "" "the replica's link to the primary" replica_ready
    log "replica already running on 127.0.0.1:$REPLICA_PORT"
    return 0
  fi
  ensure_port_free 127.0.0.1 "$REPLICA_PORT" "Redis replica"
  cat >"$REPLICA_DIR/redis.conf" <<CONF
# Written by scripts/servers/redis.sh at every start-replica.
bind 127.0.0.1
port $REPLICA_PORT
protected-mode yes
daemonize no
dir $REPLICA_DIR
dbfilename dump.rdb
requirepass $REDIS_DEFAULT_PASSWORD
user $REDIS_USER on >$REDIS_PASSWORD ~* &* +@all
replicaof 127.0.0.1 $REDIS_PORT
masteruser $REDIS_USER
masterauth $REDIS_PASSWORD
CONF
  chmod 600 "$REPLICA_DIR/redis.conf"
  spawn "$REPLICA_PIDFILE" "$REPLICA_LOGFILE" env LC_ALL=C redis-server "$REPLICA_DIR/redis.conf"
  wait_until "$REDIS_TIMEOUT" "$REPLICA_LOGFILE" "$SPAWNED_PID" "the replica's link to the primary" replica_ready
  log "replica ready on 127.0.0.1:$REPLICA_PORT (pid $SPAWNED_PID) in $(elapsed_s "$t0")s"
}

cmd_stop_replica() { stop_pidfile "$REPLICA_PIDFILE" "${RDAPSYNC_REDIS_STOP_TIMEOUT:-30}"; }

cmd_status() {
  if is_running; then
    if redis_ready; then
      echo "redis: running, pid $(read_pid "$PIDFILE"), 127.0.0.1:$REDIS_PORT"
      return 0
    fi
    echo "redis: pid $(read_pid "$PIDFILE") alive but 127.0.0.1:$REDIS_PORT not answering"
    return 1
  fi
  echo "redis: stopped"
  return 3
}

cmd_env() {
  printf "export RDAPSYNC_REDIS_HOST=127.0.0.1 RDAPSYNC_REDIS_PORT=%s RDAPSYNC_REDIS_USER=%s RDAPSYNC_REDIS_PASSWORD=%s\n" \
    "$REDIS_PORT" "$REDIS_USER" "$REDIS_PASSWORD"
  printf "export RDAPSYNC_REDIS_URL=redis://127.0.0.1:%s/0\n" "$REDIS_PORT"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) rc=0; cmd_status || rc=$?; exit "$rc" ;;
  env) cmd_env ;;
  start-replica) cmd_start_replica ;;
  stop-replica) cmd_stop_replica ;;
  *) usage_exit "{start|stop|status|env|start-replica|stop-replica}" ;;
esac
