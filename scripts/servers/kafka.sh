#!/usr/bin/env bash
# Apache Kafka 4.3.1, KRaft combined mode (broker + controller), one node on
# 127.0.0.1, for integration tests.
#
#   kafka.sh start|stop|status|env
#   kafka.sh create-topic NAME PARTITIONS
#
# Jars come from Maven Central through `mvn` (a throwaway pom) and are cached
# in ~/.cache/rdapsync/kafka-4.3.1/libs; Maven's own repository stays ~/.m2.
# Ports: RDAPSYNC_KAFKA_PORT (broker, 59092), RDAPSYNC_KAFKA_CONTROLLER_PORT
# (controller, 59093). Data in $RDAPSYNC_SERVERS_DIR/kafka/.
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
SERVER_NAME=kafka
# shellcheck source=scripts/servers/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

KAFKA_VERSION=4.3.1
SLF4J_VERSION=2.0.17
KAFKA_PORT="${RDAPSYNC_KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="${RDAPSYNC_KAFKA_CONTROLLER_PORT:-59093}"
KAFKA_HEAP_OPTS="${RDAPSYNC_KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
KAFKA_START_TIMEOUT="${RDAPSYNC_KAFKA_START_TIMEOUT:-90}"
KAFKA_CACHE="$RDAPSYNC_CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_CACHE/libs"
# What the cached libs folder was made from; a change re-downloads it.
KAFKA_LIBS_SPEC="kafka_2.13:$KAFKA_VERSION kafka-tools:$KAFKA_VERSION slf4j-api+simple:$SLF4J_VERSION"

DIR="$(server_dir kafka)"
DATA="$DIR/data"
CONF="$DIR/server.properties"
LOGFILE="$DIR/kafka.log"
PIDFILE="$DIR/kafka.pid"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (run scripts/deps.sh test)"; }

# Maven copies the jars of the pom in WORK into $KAFKA_LIBS.tmp (run in the
# background by ensure_libs, output to WORK/mvn.log).
mvn_copy_libs() {
  cd "$1" && mvn -q -B dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIBS.tmp" -DincludeScope=runtime
}

# Downloads the jars once; the marker file says the copy is complete.
ensure_libs() {
  if [[ -f "$KAFKA_LIBS/.complete" && "$(cat "$KAFKA_LIBS/.complete")" == "$KAFKA_LIBS_SPEC" ]]; then
    return 0
  fi
  need mvn
  need java
  lock_cache "$KAFKA_CACHE"
  if [[ -f "$KAFKA_LIBS/.complete" && "$(cat "$KAFKA_LIBS/.complete")" == "$KAFKA_LIBS_SPEC" ]]; then
    unlock_cache
    return 0  # made by another run while we waited for the lock
  fi
  local t0; t0="$(now_ms)"
  log "downloading Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS (first run only, about 20 s)"
  mkdir -p "$KAFKA_CACHE"
  local work; work="$(mktemp -d "$KAFKA_CACHE/pom.XXXXXX")"
  cat >"$work/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>rdapsync.servers</groupId>
  <artifactId>kafka-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- Kafka asks for slf4j-api 1.7.x, which does not see an slf4j 2
         backend: name the 2.x API here so that Maven takes it. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>$SLF4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>$SLF4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  rm -rf "$KAFKA_LIBS.tmp"
  if ! with_retries "downloading the Kafka jars" run_logged "$work/mvn.log" "downloading the Kafka jars" mvn_copy_libs "$work"; then
    tail_log "$work/mvn.log"
    die "mvn dependency:copy-dependencies failed (pom kept in $work)"
  fi
  # The broker and the storage formatter must be on the class path.
  local cls
  for cls in kafka/Kafka.class kafka/tools/StorageTool.class org/apache/kafka/tools/TopicCommand.class; do
    local found=""
    local j
    for j in "$KAFKA_LIBS.tmp"/*.jar; do
      if unzip -l "$j" "$cls" >/dev/null 2>&1; then found="$j"; break; fi
    done
    [[ -n "$found" ]] || die "class ${cls%.class} not found in the downloaded jars"
  done
  local old_api=("$KAFKA_LIBS.tmp"/slf4j-api-1.*.jar)
  [[ ! -e "${old_api[0]}" ]] \
    || die "an slf4j-api 1.x jar was resolved: the slf4j-simple backend would not bind"
  printf '%s\n' "$KAFKA_LIBS_SPEC" >"$KAFKA_LIBS.tmp/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  rm -rf "$work"
  unlock_cache
  local jars=("$KAFKA_LIBS"/*.jar)
  log "jars ready (${#jars[@]} jars) in $(elapsed_s "$t0")s"
}

java_run() { # MAIN ARGS... (short-lived tools: small heap, quick JIT)
  java -Xms64m -Xmx512m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$KAFKA_LIBS/*" "$@"
}

write_config() {
  mkdir -p "$DATA"
  cat >"$CONF" <<PROPS
# Generated by scripts/servers/kafka.sh at every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a kill -9 the restarted broker cannot register until the controller
# has expired the old incarnation's session (default 9 s): keep it short.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
delete.topic.enable=true
PROPS
}

kafka_ready() {
  kcat -b "$BOOTSTRAP" -L -m 3 2>/dev/null | grep -q "broker 1 at 127.0.0.1:$KAFKA_PORT"
}

is_running() { pidfile_alive "$PIDFILE"; }

cmd_start() {
  if is_running; then
    if wait_ready_or_gone "$KAFKA_START_TIMEOUT" "$LOGFILE" \
         "Kafka metadata on $BOOTSTRAP (kcat -L)" is_running kafka_ready; then
      log "already running (pid $(read_pid "$PIDFILE")) on $BOOTSTRAP"
      return 0
    fi
    log "the previous process is gone, starting a new one"
  fi
  need java
  need kcat
  local t0; t0="$(now_ms)"
  ensure_libs
  ensure_port_free 127.0.0.1 "$KAFKA_PORT" "Kafka broker"
  ensure_port_free 127.0.0.1 "$KAFKA_CONTROLLER_PORT" "Kafka controller"
  write_config
  if [[ ! -f "$DATA/meta.properties" ]]; then
    local cid
    cid="$(java_run kafka.tools.StorageTool random-uuid | tail -n 1 | tr -d '[:space:]')"
    [[ -n "$cid" ]] || die "kafka.tools.StorageTool random-uuid printed nothing"
    log "formatting storage, cluster id $cid"
    if ! java_run kafka.tools.StorageTool format -t "$cid" -c "$CONF" >>"$LOGFILE" 2>&1; then
      fail_with_log "$LOGFILE" "kafka.tools.StorageTool format failed"
    fi
  fi
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of options
  spawn "$PIDFILE" "$LOGFILE" java $KAFKA_HEAP_OPTS \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd\'T\'HH:mm:ss.SSS \
    -Dorg.slf4j.simpleLogger.log.org.apache.kafka=info \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$CONF"
  local pid; pid="$(read_pid "$PIDFILE")"
  log "starting broker pid $pid on $BOOTSTRAP (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)"
  wait_until "$KAFKA_START_TIMEOUT" "$LOGFILE" "$pid" \
    "Kafka metadata on $BOOTSTRAP (kcat -L)" kafka_ready
  log "ready on $BOOTSTRAP in $(elapsed_s "$t0")s"
}

cmd_stop() {
  # A clean shutdown lets the next start skip log recovery; 60 s, then KILL.
  stop_pidfile "$PIDFILE" "${RDAPSYNC_KAFKA_STOP_TIMEOUT:-60}"
}

cmd_status() {
  if is_running; then
    if kafka_ready; then
      echo "kafka: running, pid $(read_pid "$PIDFILE"), $BOOTSTRAP"
      return 0
    fi
    echo "kafka: process $(read_pid "$PIDFILE") alive but $BOOTSTRAP not answering"
    return 1
  fi
  echo "kafka: stopped"
  return 3
}

cmd_env() {
  printf "export RDAPSYNC_KAFKA_BROKERS=%s\n" "$BOOTSTRAP"
}

cmd_create_topic() {
  [[ $# -eq 2 ]] || usage_exit "create-topic NAME PARTITIONS"
  local name="$1" parts="$2"
  [[ "$parts" =~ ^[1-9][0-9]*$ ]] || die "PARTITIONS must be a positive integer, got '$parts'"
  is_running || die "Kafka is not running (run $0 start)"
  ensure_libs
  java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
    --create --if-not-exists --topic "$name" --partitions "$parts" \
    --replication-factor 1 >&2
  log "topic $name ($parts partitions) ready"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) rc=0; cmd_status || rc=$?; exit "$rc" ;;
  env) cmd_env ;;
  create-topic) shift; cmd_create_topic "$@" ;;
  *) usage_exit "{start|stop|status|env|create-topic NAME PARTITIONS}" ;;
esac
