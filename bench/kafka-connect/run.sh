#!/usr/bin/env bash
# Kafka Connect + the Debezium JDBC sink beside rdapsync: one Kafka topic of
# Debezium change envelopes -> PostgreSQL, one row per key, each system alone.
#
#   bench/kafka-connect/run.sh              # 200,000 records of ~4 KB, every step
#   N=20000 ROUNDS=1 bench/kafka-connect/run.sh   # a quick run
#   STEPS="runs ceiling report" bench/kafka-connect/run.sh  # again, same topic
#
# Steps (STEPS, in this order):
#   build    Release build of rdapsync, its kafka source, postgres sink and
#            rdapgen into BUILD_DIR (build-bench)
#   jars     Kafka Connect 4.3.1 and the Debezium JDBC sink 3.6.0.Final from
#            Maven Central (fetch.sh; cached in ~/.cache/rdapsync)
#   servers  the broker and PostgreSQL: scripts/servers/all.sh start kafka postgres
#            (their ports and folders: RDAPSYNC_KAFKA_PORT, RDAPSYNC_PG_PORT,
#            RDAPSYNC_SERVERS_DIR, as for the tests)
#   topic    N RDAP domains (rdapgen, ~4 KB, seed 1) as Debezium envelopes with
#            JsonConverter schemas (envelopes.py), produced once with kcat into
#            topic rdap.public.domains.N, 6 partitions, keyed by handle
#   runs     every configuration of CONFIGS, ROUNDS (2) times, one process at a
#            time (run_one.py: its own consumer group from the beginning, its own
#            new table; samples of rows over time kept)
#   ceiling  PostgreSQL's ceiling: the rows rdapsync stored, COPYed again over 1
#            and 2 connections into a table of the same schema, lz4 and pglz
#   report   the table, the ratios and the targets (report.py); the plot of
#            rows/s over time with gnuplot (installed from Debian when missing)
#   stop     stop the servers (only when this script started them)
#
# Output in KCB_DIR (build-bench/kcbench): results.jsonl, table.md,
# samples/*.csv, runs/NAME/ (configurations and logs), rows-over-time.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/bench/kafka-connect
build=${BUILD_DIR:-build-bench}
case $build in /*) ;; *) build=$root/$build ;; esac
N=${N:-200000}
ROUNDS=${ROUNDS:-2}
STEPS=${STEPS:-"build jars servers topic runs ceiling report stop"}
# name|system|run_one.py options|label
CONFIGS=${CONFIGS:-"
kc-b500-t1|kc|--tasks 1 --batch 500|Kafka Connect 4.3.1 + Debezium JDBC 3.6, batch 500, 1 task
kc-b2000-t2|kc|--tasks 2 --batch 2000|Kafka Connect, batch 2,000, tasks.max 2
rs-t1|rs|--tasks 1|rdapsync, 1 task
rs-t1-c2|rs|--tasks 1 --connections 2|rdapsync, 1 task, connections: 2
rs-t2|rs|--tasks 2|rdapsync, 2 tasks
"}
export KCB_DIR=${KCB_DIR:-$build/kcbench}
export KCB_RECORDS=$N
export KCB_TOPIC=rdap.public.domains.$N
export KCB_RDAPSYNC=$build/host/rdapsync KCB_PLUGINS=$build/plugins
export KCB_REST_PORT=${RDAPSYNC_CONNECT_PORT:-58083}
export RDAPSYNC_SERVERS_DIR=${RDAPSYNC_SERVERS_DIR:-$build/servers}
want() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }
say() { printf '[kcbench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
mkdir -p "$KCB_DIR"

if want build; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDAPSYNC_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 --target rdapsync rdapsync_source_kafka rdapsync_sink_postgres rdapgen >/dev/null
fi
if want jars || want runs; then KCB_JARS=$(bash "$here/fetch.sh"); export KCB_JARS; fi
started=""
if want servers; then
  for s in kafka postgres; do
    bash "scripts/servers/$s.sh" status >/dev/null 2>&1 || started+=" $s"
  done
  [[ -z $started ]] || bash scripts/servers/all.sh start $started
fi
eval "$(bash scripts/servers/kafka.sh env)"
eval "$(bash scripts/servers/postgres.sh env)"
export KCB_BROKERS=$RDAPSYNC_KAFKA_BROKERS KCB_PG_DSN=$RDAPSYNC_PG_DSN
export KCB_PG_PORT=${RDAPSYNC_PG_PORT:-55432} KCB_PG_DB=rdapsync
KCB_POSTMASTER_PID=$(head -n 1 "$RDAPSYNC_SERVERS_DIR/postgres/data/postmaster.pid")
export KCB_POSTMASTER_PID

topic_count() {
  local s=0 p hi
  for p in 0 1 2 3 4 5; do
    hi=$(kcat -b "$KCB_BROKERS" -Q -t "$KCB_TOPIC:$p:-1" 2>/dev/null | awk '{print $NF}')
    s=$((s + ${hi:-0}))
  done
  echo "$s"
}
if want topic; then
  have=$(topic_count)
  if [[ $have != "$N" ]]; then
    [[ $have == 0 ]] || { say "topic $KCB_TOPIC holds $have messages, not $N: delete it (or the broker's data) first"; exit 1; }
    data=$KCB_DIR/domains-$N.jsonl
    [[ -s $data ]] || { "$build/tools/rdapgen/rdapgen" --format rdap --count "$N" --seed 1 --size 4096 -o "$data.tmp"; mv "$data.tmp" "$data"; }
    bash scripts/servers/kafka.sh create-topic "$KCB_TOPIC" 6
    say "producing $N envelopes into $KCB_TOPIC"
    python3 "$here/envelopes.py" <"$data" |
      kcat -P -b "$KCB_BROKERS" -t "$KCB_TOPIC" -K $'\t' -X linger.ms=20 -X batch.size=1000000
    have=$(topic_count)
    [[ $have == "$N" ]] || { say "topic holds $have messages, expected $N"; exit 1; }
    rm -f "$data"
  fi
  say "topic $KCB_TOPIC: $N messages"
fi

if want runs; then
  rm -f "$KCB_DIR/results.jsonl"
  for round in $(seq 1 "$ROUNDS"); do
    while IFS='|' read -r name sys opts label; do
      [[ -n $name ]] || continue
      sleep 3 # the previous run's stop and checkpoint settle
      say "round $round: $label"
      keep=""
      [[ $round == 1 && $name == rs-t1 ]] && keep=$name-r1 # the ceiling's rows
      # shellcheck disable=SC2086 # opts is a list of options
      KCB_KEEP_TABLE=$keep python3 "$here/run_one.py" "$sys" "$name-r$round" $opts --label "$label" >/dev/null ||
        say "run $name-r$round FAILED (see $KCB_DIR/runs/$name-r$round/)"
    done <<<"$CONFIGS"
  done
fi
if want ceiling; then
  say "PostgreSQL's ceiling (COPY of the same rows)"
  bash "$here/ceiling.sh" kcb_rs_t1_r1 "${CEILING_CONNECTIONS:-1 2}" "lz4 pglz" >/dev/null
  psql -X -q "$KCB_PG_DSN" -c "DROP TABLE IF EXISTS kcb_rs_t1_r1 CASCADE"
fi
if want report; then
  command -v gnuplot >/dev/null || apt-get install -y -q gnuplot-nox >/dev/null
  KCB_PLOT=$KCB_DIR/rows-over-time.png python3 "$here/report.py"
fi
if want stop && [[ -n $started ]]; then bash scripts/servers/all.sh stop $started; fi
