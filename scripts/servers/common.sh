# shellcheck shell=bash disable=SC2034
# Shared helpers for the scripts in scripts/servers/. Source it, do not run it.
#
# Layout: every server gets "$RDAPSYNC_SERVERS_DIR/<name>/" with its data,
# its log file and its pid file. Downloaded/built artefacts that are worth
# keeping between runs live in "$RDAPSYNC_CACHE_DIR" (default
# ~/.cache/rdapsync).
#
# Conventions used by every server script:
#   - logs and progress go to stderr, only `env` prints to stdout;
#   - `start` is idempotent (already running -> exit 0);
#   - `stop` is idempotent (not running -> exit 0), kills the whole process
#     group and waits for it to be gone;
#   - `status` exits 0 when running, 3 when stopped.

set -Eeuo pipefail
# No silent exits: say which command stopped the script.
on_err() {
  printf '[%s %s] ERROR: command failed (exit %s) at %s:%s: %s\n' "$(date +%H:%M:%S)" \
    "${SERVER_NAME:-servers}" "$1" "$(basename "$2")" "$3" "$4" >&2
}
trap 'on_err "$?" "${BASH_SOURCE[0]:-?}" "$LINENO" "$BASH_COMMAND"' ERR

RDAPSYNC_SERVERS_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RDAPSYNC_SERVERS_DIR="${RDAPSYNC_SERVERS_DIR:-$PWD/build/servers}"
mkdir -p "$RDAPSYNC_SERVERS_DIR"
RDAPSYNC_SERVERS_DIR="$(cd "$RDAPSYNC_SERVERS_DIR" && pwd)"
RDAPSYNC_CACHE_DIR="${RDAPSYNC_CACHE_DIR:-$HOME/.cache/rdapsync}"
export RDAPSYNC_SERVERS_DIR RDAPSYNC_CACHE_DIR

# Name shown in log lines; each script sets it before sourcing.
SERVER_NAME="${SERVER_NAME:-servers}"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$SERVER_NAME" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Monotonic-ish timer in milliseconds, for "started in N.NNs" messages.
now_ms() { date +%s%3N; }
elapsed_s() { # START_MS -> "1.23"
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%02d' $((d / 1000)) $(((d % 1000) / 10))
}

# server_dir NAME: creates and prints the run folder of one server.
server_dir() {
  local d="$RDAPSYNC_SERVERS_DIR/$1"
  mkdir -p "$d"
  printf '%s\n' "$d"
}

# tail_log FILE [N]: the last N (default 40) lines of a log, to stderr.
tail_log() {
  local f="$1" n="${2:-40}"
  if [[ -s "$f" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf -- '-----\n' >&2
  else
    printf -- '(log %s is empty or missing)\n' "$f" >&2
  fi
}

# Pid of the server process that this run of a script spawned; a failed start
# stops it again (set RDAPSYNC_KEEP_FAILED=1 to keep it for a post-mortem).
SPAWNED_PID=""
# Name of a function to call instead, for servers not started by spawn().
START_FAILED_HOOK=""

# fail_with_log FILE MESSAGE...: error message, log tail, stops what this run
# started, exit 1.
fail_with_log() {
  local f="$1"; shift
  log "ERROR: $*"
  tail_log "$f"
  if [[ -z "${RDAPSYNC_KEEP_FAILED:-}" ]]; then
    if [[ -n "$START_FAILED_HOOK" ]]; then
      "$START_FAILED_HOOK" || true
    elif [[ -n "$SPAWNED_PID" ]] && pid_alive "$SPAWNED_PID"; then
      log "stopping the failed server (pid $SPAWNED_PID)"
      kill_tree "$SPAWNED_PID" 10 || true
    fi
  fi
  exit 1
}

# pid_alive PID: true if a process with that pid exists (and is no zombie).
pid_alive() {
  local pid="${1:-}"
  [[ -n "$pid" && "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  local st
  st="$(ps -o stat= -p "$pid" 2>/dev/null || true)"
  [[ -n "$st" && "$st" != Z* ]]
}

# read_pid FILE: prints the pid stored in FILE (first line), or nothing.
read_pid() {
  [[ -f "$1" ]] || return 0
  { head -n 1 "$1" 2>/dev/null || true; } | tr -dc '0-9'
}

# pidfile_alive FILE: true if the pid in FILE is a live process.
pidfile_alive() { pid_alive "$(read_pid "$1")"; }

# port_open HOST PORT: true if something accepts TCP connections there.
port_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# ensure_port_free HOST PORT WHAT: fail if the port is already taken by
# someone else (called before starting a server whose pid is not alive).
# A connect() to a free port in the ephemeral range can, rarely, meet itself
# (TCP simultaneous open) and look taken: ask the kernel for listeners instead.
port_listening() {
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -ltnH "sport = :$2" 2>/dev/null)" ]]
  else
    port_open "$1" "$2"
  fi
}

ensure_port_free() {
  if port_listening "$1" "$2"; then
    die "port $1:$2 ($3) is already in use by another process; set the port variable to a free port"
  fi
  reserve_ports "$2"
}

# reserve_ports PORT...: our ports lie in Linux's ephemeral range
# (32768-60999), so any outgoing connection on this machine (a Kafka
# client, a JVM) may take one as its local port, and a server started on it
# then fails with "address already in use" although nothing listens there.
# As root, add them to net.ipv4.ip_local_reserved_ports, which keeps the
# kernel from choosing them for outgoing connections (an explicit bind still
# works). Best effort: without the right to write it, nothing changes.
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports current p list
  [[ -w "$f" ]] || return 0
  current="$(cat "$f" 2>/dev/null)" || return 0
  list="$current"
  for p in "$@"; do
    [[ "$p" =~ ^[0-9]+$ ]] || continue
    [[ ",$current," == *",$p,"* ]] && continue
    list="${list:+$list,}$p"
  done
  [[ "$list" == "$current" ]] || echo "$list" >"$f" 2>/dev/null || true
}

# Every test server's ports (the defaults are the server scripts' own), so
# all.sh can reserve them all before the first server opens connections.
all_server_ports() {
  local redis="${RDAPSYNC_REDIS_PORT:-56379}"
  printf '%s\n' "${RDAPSYNC_PG_PORT:-55432}" "${RDAPSYNC_MYSQL_PORT:-53306}" "${RDAPSYNC_MONGO_PORT:-57017}" \
    "${RDAPSYNC_FERRETDB_DEBUG_PORT:-58088}" "${RDAPSYNC_KAFKA_PORT:-59092}" "${RDAPSYNC_KAFKA_CONTROLLER_PORT:-59093}" \
    "${RDAPSYNC_RDAP_PORT:-58480}" "$redis" "${RDAPSYNC_REDIS_REPLICA_PORT:-$((redis + 1))}" \
    "${RDAPSYNC_OTEL_PORT:-54318}" "${RDAPSYNC_CONNECT_PORT:-58083}"
}

# wait_until TIMEOUT_S LOGFILE PID DESCRIPTION CMD...:
# runs CMD every 0.2 s until it succeeds. Fails (with the log tail) when the
# timeout passes or when PID (if not empty) has died.
wait_until() {
  local timeout_s="$1" logfile="$2" pid="$3" what="$4"; shift 4
  local deadline=$(( $(now_ms) + timeout_s * 1000 ))
  while :; do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      fail_with_log "$logfile" "process $pid exited while waiting for: $what"
    fi
    if (( $(now_ms) >= deadline )); then
      fail_with_log "$logfile" "timed out after ${timeout_s}s waiting for: $what"
    fi
    sleep 0.2
  done
}

# wait_ready_or_gone TIMEOUT_S LOGFILE DESCRIPTION ALIVE_CMD READY_CMD:
# for a server found running but not answering (still starting, or dying):
# returns 0 once READY_CMD succeeds, 1 once ALIVE_CMD fails (the caller then
# starts a new one), fails with the log tail after TIMEOUT_S.
wait_ready_or_gone() {
  local timeout_s="$1" logfile="$2" what="$3" alive="$4" ready="$5"
  local deadline=$(( $(now_ms) + timeout_s * 1000 ))
  while :; do
    if "$ready" >/dev/null 2>&1; then
      return 0
    fi
    if ! "$alive" >/dev/null 2>&1; then
      return 1
    fi
    if (( $(now_ms) >= deadline )); then
      # Not ours to stop: it was running before this call.
      SPAWNED_PID=""
      START_FAILED_HOOK=""
      fail_with_log "$logfile" "a server process is alive but did not answer within ${timeout_s}s: $what (stop it first)"
    fi
    sleep 0.2
  done
}

# wait_port HOST PORT TIMEOUT_S LOGFILE [PID]
wait_port() {
  wait_until "$3" "$4" "${5:-}" "TCP port $1:$2" port_open "$1" "$2"
}

# rotate_log FILE: keeps logs from growing without end across many starts:
# past RDAPSYNC_LOG_MAX_MB (default 20) MiB the file becomes FILE.old.
rotate_log() {
  local f="$1" max=$(( ${RDAPSYNC_LOG_MAX_MB:-20} * 1024 * 1024 ))
  if [[ -f "$f" ]] && (( $(stat -c %s "$f") > max )); then
    mv -f "$f" "$f.old"
  fi
}

# spawn PIDFILE LOGFILE CMD...: starts CMD detached in a new session (its own
# process group, pgid == pid), stdout+stderr appended to LOGFILE, stdin from
# /dev/null, and writes its pid to PIDFILE.
spawn() {
  local pidfile="$1" logfile="$2"; shift 2
  rotate_log "$logfile"
  printf '\n===== %s start: %s\n' "$(date '+%F %T')" "$*" >>"$logfile"
  # A background job of a non-interactive shell is not a process group
  # leader, so setsid(1) calls setsid() itself without forking: $! is the
  # server's own pid and the leader of its process group.
  setsid "$@" >>"$logfile" 2>&1 </dev/null 9>&- &
  local pid=$!
  SPAWNED_PID="$pid"
  printf '%s\n' "$pid" >"$pidfile"
}

# kill_tree PID TIMEOUT_S: SIGTERM to the process group led by PID (or to PID
# alone when it leads none), wait up to TIMEOUT_S, then SIGKILL; always waits
# until the process is gone.
kill_tree() {
  local pid="$1" timeout_s="${2:-30}"
  pid_alive "$pid" || return 0
  local pgid
  pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ' || true)"
  local target="$pid"
  if [[ -n "$pgid" && "$pgid" == "$pid" ]]; then
    target="-$pid"
  fi
  kill -TERM -- "$target" 2>/dev/null || true
  local deadline=$(( $(now_ms) + timeout_s * 1000 ))
  while pid_alive "$pid"; do
    if (( $(now_ms) >= deadline )); then
      log "process $pid still alive after ${timeout_s}s, sending SIGKILL"
      kill -KILL -- "$target" 2>/dev/null || true
      sleep 0.2
      local _
      for _ in $(seq 1 50); do
        pid_alive "$pid" || break
        sleep 0.1
      done
      pid_alive "$pid" && die "could not kill process $pid"
      break
    fi
    sleep 0.1
  done
  # Leftovers of the group (children that ignored TERM), if any.
  if [[ "$target" == -* ]]; then
    kill -KILL -- "$target" 2>/dev/null || true
  fi
  return 0
}

# stop_pidfile PIDFILE TIMEOUT_S: stops the process of a pid file, removes it.
stop_pidfile() {
  local pidfile="$1" timeout_s="${2:-30}"
  local pid
  pid="$(read_pid "$pidfile")"
  if pid_alive "$pid"; then
    log "stopping pid $pid"
    kill_tree "$pid" "$timeout_s"
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$pidfile"
}

# as_user USER CMD...: runs CMD as USER when we are root and USER differs,
# otherwise runs it directly.
as_user() {
  local user="$1"; shift
  if [[ "$(id -u)" -eq 0 && "$user" != "root" ]]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u "$user" -- "$@"
    else
      su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

# make_reachable USER DIR: makes sure USER can traverse every folder down to
# DIR (adds o+x — search, not read — to ancestors that block it). Needed when
# root starts a server as an unprivileged user inside a root-owned tree.
make_reachable() {
  local user="$1" dir="$2"
  as_user "$user" test -x "$dir" 2>/dev/null && return 0
  local p="$dir"
  local -a chain=()
  while [[ "$p" != "/" && -n "$p" ]]; do
    chain=("$p" "${chain[@]}")
    p="$(dirname "$p")"
  done
  local d
  for d in "${chain[@]}"; do
    if ! as_user "$user" test -x "$d" 2>/dev/null; then
      log "granting search permission (o+x) on $d so that user $user can reach $dir"
      chmod o+x "$d"
    fi
  done
  as_user "$user" test -x "$dir" || die "user $user cannot reach $dir"
}

# run_logged LOGFILE WHAT CMD...: runs CMD (a command or a function) with its
# output appended to LOGFILE, and logs "still WHAT (N s)" every
# RDAPSYNC_PROGRESS_EVERY seconds (default 15) while it runs, so that a long
# first-run step (a build, a download) is seen to be alive. Returns CMD's
# exit status.
run_logged() {
  local logfile="$1" what="$2"; shift 2
  local every="${RDAPSYNC_PROGRESS_EVERY:-15}"
  "$@" >>"$logfile" 2>&1 </dev/null &
  local pid=$! start=$SECONDS rc=0
  local next=$every
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.5
    if (( SECONDS - start >= next )); then
      log "still $what ($((SECONDS - start)) s)"
      next=$((next + every))
    fi
  done
  wait "$pid" || rc=$?
  return "$rc"
}

# with_retries WHAT CMD...: runs CMD up to RDAPSYNC_FETCH_TRIES times (3),
# 10 s apart, for the steps that download from a public registry (Maven
# Central, the Go module proxy): one TLS handshake timeout there must not
# fail a whole test run. A failure that is ours costs the retries only.
with_retries() {
  # Names the command cannot shadow: bash's locals are dynamically scoped.
  local wr_what="$1"; shift
  local wr_tries="${RDAPSYNC_FETCH_TRIES:-3}" wr_n=1
  until "$@"; do
    if (( wr_n >= wr_tries )); then
      return 1
    fi
    log "$wr_what failed (attempt $wr_n of $wr_tries); trying again in 10 s"
    sleep 10
    wr_n=$((wr_n + 1))
  done
}

# lock_cache DIR: takes an exclusive lock on DIR/.lock (fd 9), so that two
# first runs do not download/build at once; unlock_cache releases it.
lock_cache() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  if ! flock -w 900 9; then
    die "timed out waiting for the lock on $1 (another first run?)"
  fi
}

unlock_cache() { exec 9>&-; }

# usage_exit "VERBS": prints usage and exits 2.
usage_exit() {
  printf 'usage: %s %s\n' "$(basename "$0")" "$1" >&2
  exit 2
}
