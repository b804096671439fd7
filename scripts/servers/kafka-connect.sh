#!/usr/bin/env bash
# Kafka Connect 4.3.1 standalone on 127.0.0.1 with the Debezium PostgreSQL
# connector 3.6.1.Final, for the CDC integration test and benchmark.
#
#   kafka-connect.sh start|stop|status|env
#   kafka-connect.sh register NAME CONFIG.json   (PUT /connectors/NAME/config)
#   kafka-connect.sh delete NAME
#   kafka-connect.sh wait-running NAME [TIMEOUT_S]
#
# Needs the broker of scripts/servers/kafka.sh (RDAPSYNC_KAFKA_PORT) running.
# REST port RDAPSYNC_CONNECT_PORT (58083). Jars come from Maven Central
# through `mvn` (throwaway poms; Maven's repository stays ~/.m2) and are
# cached in ~/.cache/rdapsync/kafka-connect-4.3.1/{libs,plugins}. Debezium's
# parent pom names repositories besides Central; a settings file given to
# this mvn run mirrors all of them to Central. Worker config, offsets file and
# log in $RDAPSYNC_SERVERS_DIR/kafka-connect/.
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
SERVER_NAME=kafka-connect
# shellcheck source=scripts/servers/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

KC_VERSION=4.3.1
DBZ_VERSION=3.6.1.Final
PGJDBC_VERSION=42.7.8
SLF4J_VERSION=2.0.17
CONNECT_PORT="${RDAPSYNC_CONNECT_PORT:-58083}"
KAFKA_PORT="${RDAPSYNC_KAFKA_PORT:-59092}"
CONNECT_HEAP_OPTS="${RDAPSYNC_CONNECT_HEAP_OPTS:--Xms128m -Xmx768m}"
CONNECT_START_TIMEOUT="${RDAPSYNC_CONNECT_START_TIMEOUT:-120}"
KC_CACHE="$RDAPSYNC_CACHE_DIR/kafka-connect-$KC_VERSION"
KC_LIBS="$KC_CACHE/libs"
KC_PLUGINS="$KC_CACHE/plugins"
KC_SPEC="connect-runtime:$KC_VERSION debezium-connector-postgres:$DBZ_VERSION slf4j:$SLF4J_VERSION no-plugin-jackson"

DIR="$(server_dir kafka-connect)"
CONF="$DIR/worker.properties"
LOGFILE="$DIR/kafka-connect.log"
PIDFILE="$DIR/kafka-connect.pid"
REST="http://127.0.0.1:$CONNECT_PORT"

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (run scripts/deps.sh test)"; }

mvn_run() { # WORK GOAL ARGS...: mvn in WORK with the Central-only settings
  local work="$1"; shift
  (cd "$work" && mvn -q -B -s "$work/settings.xml" "$@")
}

write_poms() { # WORK
  local work="$1"
  # Debezium's parent pom lists other repositories (Confluent, Red Hat...):
  # route every one of them to Maven Central.
  cat >"$work/settings.xml" <<XML
<settings><mirrors><mirror><id>central-only</id><mirrorOf>*</mirrorOf>
<url>https://repo.maven.apache.org/maven2</url></mirror></mirrors></settings>
XML
  mkdir -p "$work/runtime" "$work/plugin"
  cp "$work/settings.xml" "$work/runtime/"
  cp "$work/settings.xml" "$work/plugin/"
  cat >"$work/runtime/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>rdapsync.servers</groupId><artifactId>kafka-connect-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId><version>$KC_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-json</artifactId><version>$KC_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><version>$KC_VERSION</version></dependency>
    <!-- Connect asks for slf4j-api 1.7.x, which does not see an slf4j 2
         backend: name the 2.x API so that Maven takes it. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  cat >"$work/plugin/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>rdapsync.servers</groupId><artifactId>debezium-postgres-plugin</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.debezium</groupId><artifactId>debezium-connector-postgres</artifactId><version>$DBZ_VERSION</version></dependency>
    <dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><version>$PGJDBC_VERSION</version></dependency>
  </dependencies>
</project>
POM
}

# Downloads the jars once; the marker file says the copy is complete.
ensure_libs() {
  if [[ -f "$KC_CACHE/.complete" && "$(cat "$KC_CACHE/.complete")" == "$KC_SPEC" ]]; then
    return 0
  fi
  need mvn
  need java
  lock_cache "$KC_CACHE"
  if [[ -f "$KC_CACHE/.complete" && "$(cat "$KC_CACHE/.complete")" == "$KC_SPEC" ]]; then
    unlock_cache
    return 0
  fi
  local t0; t0="$(now_ms)"
  log "downloading Kafka Connect $KC_VERSION and Debezium $DBZ_VERSION jars with Maven into $KC_CACHE (first run only)"
  local work; work="$(mktemp -d "$KC_CACHE/pom.XXXXXX")"
  write_poms "$work"
  rm -rf "$KC_LIBS.tmp" "$KC_PLUGINS.tmp"
  if ! with_retries "downloading the Kafka Connect jars" run_logged "$work/mvn.log" "downloading the Kafka Connect jars" \
       mvn_run "$work/runtime" dependency:copy-dependencies \
       -DoutputDirectory="$KC_LIBS.tmp" -DincludeScope=runtime; then
    tail_log "$work/mvn.log"
    die "mvn dependency:copy-dependencies (connect-runtime $KC_VERSION) failed (pom kept in $work)"
  fi
  # The plugin folder holds the connector and what it needs, without the
  # Kafka, slf4j and Jackson jars that the worker already has: with its own
  # Jackson, the plugin's classes and the worker's JsonConverter would see
  # two JsonNode classes (Debezium's CloudEventsConverter then fails to load).
  if ! with_retries "downloading the Debezium connector jars" run_logged "$work/mvn.log" "downloading the Debezium connector jars" \
       mvn_run "$work/plugin" dependency:copy-dependencies \
       -DoutputDirectory="$KC_PLUGINS.tmp/debezium-connector-postgres" \
       -DincludeScope=runtime -DexcludeGroupIds=org.apache.kafka,org.slf4j \
       -DexcludeArtifactIds=jackson-core,jackson-databind,jackson-annotations; then
    tail_log "$work/mvn.log"
    die "mvn dependency:copy-dependencies (debezium-connector-postgres $DBZ_VERSION) failed (pom kept in $work)"
  fi
  [[ -f "$KC_PLUGINS.tmp/debezium-connector-postgres/debezium-connector-postgres-$DBZ_VERSION.jar" ]] \
    || die "no debezium-connector-postgres-$DBZ_VERSION.jar in the downloaded plugin"
  local old_api=("$KC_LIBS.tmp"/slf4j-api-1.*.jar)
  [[ ! -e "${old_api[0]}" ]] \
    || die "an slf4j-api 1.x jar was resolved: the slf4j-simple backend would not bind"
  rm -rf "$KC_LIBS" "$KC_PLUGINS"
  mv "$KC_LIBS.tmp" "$KC_LIBS"
  mv "$KC_PLUGINS.tmp" "$KC_PLUGINS"
  printf '%s\n' "$KC_SPEC" >"$KC_CACHE/.complete"
  rm -rf "$work"
  unlock_cache
  log "jars ready ($(find "$KC_LIBS" "$KC_PLUGINS" -name '*.jar' | wc -l) jars) in $(elapsed_s "$t0")s"
}

write_config() {
  cat >"$CONF" <<PROPS
# Generated by scripts/servers/kafka-connect.sh at every start.
bootstrap.servers=127.0.0.1:$KAFKA_PORT
listeners=http://127.0.0.1:$CONNECT_PORT
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$CONNECT_PORT
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=$DIR/connect.offsets
# Source offsets (the replication slot position) are flushed every second:
# after a restart the connector resumes from there, and the rdapsync side
# sees at most a second of changes again (at-least-once, idempotent upserts).
offset.flush.interval.ms=1000
plugin.path=$KC_PLUGINS
plugin.discovery=only_scan
PROPS
}

connect_ready() {
  curl -fsS --max-time 2 "$REST/connectors" >/dev/null 2>&1
}

kafka_up() { port_open 127.0.0.1 "$KAFKA_PORT"; }

is_running() { pidfile_alive "$PIDFILE"; }

cmd_start() {
  if is_running; then
    if wait_ready_or_gone "$CONNECT_START_TIMEOUT" "$LOGFILE" \
         "Kafka Connect REST on $REST" is_running connect_ready; then
      log "already running (pid $(read_pid "$PIDFILE")) on $REST"
      return 0
    fi
    log "the previous process is gone, starting a new one"
  fi
  need java
  need curl
  local t0; t0="$(now_ms)"
  ensure_libs
  kafka_up || die "no Kafka broker on 127.0.0.1:$KAFKA_PORT (start scripts/servers/kafka.sh first)"
  ensure_port_free 127.0.0.1 "$CONNECT_PORT" "Kafka Connect REST"
  write_config
  # shellcheck disable=SC2086 # CONNECT_HEAP_OPTS is a list of options
  spawn "$PIDFILE" "$LOGFILE" java $CONNECT_HEAP_OPTS \
    -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd\'T\'HH:mm:ss.SSS \
    -Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients=warn \
    -cp "$KC_LIBS/*" org.apache.kafka.connect.cli.ConnectStandalone "$CONF"
  local pid; pid="$(read_pid "$PIDFILE")"
  log "starting Kafka Connect pid $pid on $REST (broker 127.0.0.1:$KAFKA_PORT)"
  wait_until "$CONNECT_START_TIMEOUT" "$LOGFILE" "$pid" "Kafka Connect REST on $REST" connect_ready
  log "ready on $REST in $(elapsed_s "$t0")s"
}

cmd_stop() {
  stop_pidfile "$PIDFILE" "${RDAPSYNC_CONNECT_STOP_TIMEOUT:-30}"
}

cmd_status() {
  if is_running; then
    if connect_ready; then
      echo "kafka-connect: running, pid $(read_pid "$PIDFILE"), $REST"
      return 0
    fi
    echo "kafka-connect: process $(read_pid "$PIDFILE") alive but $REST not answering"
    return 1
  fi
  echo "kafka-connect: stopped"
  return 3
}

cmd_env() {
  printf "export RDAPSYNC_CONNECT_URL=%s\n" "$REST"
}

cmd_register() {
  [[ $# -eq 2 ]] || usage_exit "register NAME CONFIG.json"
  local name="$1" file="$2" out
  [[ -f "$file" ]] || die "$file: no such file"
  connect_ready || die "Kafka Connect is not answering on $REST (run $0 start)"
  if ! out="$(curl -sS --max-time 30 -X PUT -H 'Content-Type: application/json' \
         --data-binary "@$file" -w '\n%{http_code}' "$REST/connectors/$name/config")"; then
    die "PUT $REST/connectors/$name/config failed"
  fi
  local code="${out##*$'\n'}"
  [[ "$code" == 200 || "$code" == 201 ]] \
    || die "PUT $REST/connectors/$name/config answered $code: ${out%$'\n'*}"
  log "connector $name registered from $file"
}

cmd_delete() {
  [[ $# -eq 1 ]] || usage_exit "delete NAME"
  curl -sS --max-time 30 -X DELETE "$REST/connectors/$1" >/dev/null || true
  log "connector $1 deleted"
}

connector_running() { # NAME: connector and all its tasks RUNNING; dies on FAILED
  local st states
  st="$(curl -fsS --max-time 5 "$REST/connectors/$1/status" 2>/dev/null)" || return 1
  states="$(jq -r '[.connector.state] + [.tasks[].state] | unique | join(",")' <<<"$st")"
  if [[ "$states" == *FAILED* ]]; then
    jq -r '.connector.trace // empty, (.tasks[] | .trace // empty)' <<<"$st" | head -n 5 >&2
    die "connector $1 FAILED (states $states)"
  fi
  [[ "$states" == RUNNING ]] && [[ "$(jq '.tasks | length' <<<"$st")" -gt 0 ]]
}

cmd_wait_running() {
  [[ $# -ge 1 ]] || usage_exit "wait-running NAME [TIMEOUT_S]"
  need jq
  local name="$1" timeout_s="${2:-60}"
  local deadline=$((SECONDS + timeout_s))
  until connector_running "$name"; do
    is_running || fail_with_log "$LOGFILE" "Kafka Connect exited while waiting for connector $name"
    ((SECONDS < deadline)) || die "connector $name not RUNNING after ${timeout_s}s"
    sleep 0.3
  done
  log "connector $name running"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) rc=0; cmd_status || rc=$?; exit "$rc" ;;
  env) cmd_env ;;
  fetch) ensure_libs ;;
  register) shift; cmd_register "$@" ;;
  delete) shift; cmd_delete "$@" ;;
  wait-running) shift; cmd_wait_running "$@" ;;
  *) usage_exit "{start|stop|status|env|fetch|register NAME CONFIG.json|delete NAME|wait-running NAME [TIMEOUT_S]}" ;;
esac
