#!/usr/bin/env bash
# What the delta transform saves: bytes written to Kafka and records per
# second into PostgreSQL, with and without delta, on a stream where 90% of
# the events repeat their key's last document and the rest change one to
# three members (tests/e2e/evolve/delta_stream.py makes it).
#
#   bench/delta/run.sh                         # 100,000 events over 5,000 keys
#   EVENTS=200000 KEYS=10000 DOC_SIZE=1000 bench/delta/run.sh   # DOC_SIZE: free text per document
#   BUILD_DIR=build-t bench/delta/run.sh       # an existing build (any type)
#   ONLY=postgres bench/delta/run.sh           # only the PostgreSQL runs (ONLY=kafka: only Kafka's)
#   TRANSFORM_THREAD=false bench/delta/run.sh  # batch.transform_thread of every run (default auto)
#   ROUNDS=5 ONLY=postgres bench/delta/run.sh  # five pairs of PostgreSQL runs, interleaved, and their medians
#
# Runs, one task each, each from an empty state directory:
#   kafka  without delta      file -> kafka: every event is a message
#   kafka  delta full         file -> delta -> kafka: changed documents only
#   kafka  delta merge-patch  file -> delta (emit: merge-patch) -> kafka
#   postgres without delta    file -> postgres (upsert): every event is a row write
#   postgres delta            file -> delta -> postgres
# Bytes are the sum of the message values (and keys) read back from each
# topic with kcat; records per second are input events over wall time.
# Beside the wall time: the CPU seconds of rdapsync (user + system, from
# /usr/bin/time) and, when the PostgreSQL server runs on this machine, of
# the server (its postmaster's own and reaped children's times in /proc):
# on a machine busy with other work the CPU figures stay meaningful, the
# wall figures do not.
# Targets: delta's Kafka bytes <= 15% of the baseline's, and >= 2x the
# records per second into PostgreSQL. Figures only, nothing fails.
#
# Servers: RDAPSYNC_KAFKA_BROKERS / RDAPSYNC_PG_DSN if set, else
# scripts/servers/kafka.sh and postgres.sh are started (and stopped at the end).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
only=${ONLY:-}
thread=${TRANSFORM_THREAD:-auto}
rounds=${ROUNDS:-1}
events=${EVENTS:-100000}
size=${DOC_SIZE:-3000}
keys=${KEYS:-5000}
say() { printf '==> %s\n' "$*" >&2; }
command -v kcat >/dev/null || { echo "kcat not found (Debian package kcat)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found (Debian package time)" >&2; exit 1; }
command -v psql >/dev/null || { echo "psql not found (Debian package postgresql-client)" >&2; exit 1; }

if [ ! -x "$build/host/rdapsync" ]; then
  say "build (Release) in $build"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDAPSYNC_WERROR=OFF >/dev/null
fi
cmake --build "$build" -j"${JOBS:-2}" --target rdapsync rdapsync_source_file rdapsync_transform_delta \
  rdapsync_sink_kafka rdapsync_sink_postgres >/dev/null
bin=$build/host/rdapsync
export RDAPSYNC_PLUGIN_PATH=$build/plugins

started=()
export RDAPSYNC_SERVERS_DIR=${RDAPSYNC_SERVERS_DIR:-$build/servers}
if [ "$only" != postgres ] && [ -z "${RDAPSYNC_KAFKA_BROKERS:-}" ]; then
  scripts/servers/kafka.sh start >&2
  eval "$(scripts/servers/kafka.sh env)"
  started+=(kafka)
fi
if [ "$only" != kafka ] && [ -z "${RDAPSYNC_PG_DSN:-}" ]; then
  scripts/servers/postgres.sh start >&2
  eval "$(scripts/servers/postgres.sh env)"
  started+=(postgres)
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-delta.XXXXXX")
stop_all() {
  rm -rf "$work"
  for s in "${started[@]}"; do scripts/servers/"$s".sh stop >&2 || true; done
}
trap stop_all EXIT

say "stream: $events events over $keys keys, 90% repeats, documents of about $((size * 2 / 3 + 500)) bytes"
python3 tests/e2e/evolve/delta_stream.py "$work/in.jsonl" "$events" "$keys" 42 0.9 0 "$size" --expected "$work/changed.txt"
changed=$(wc -l <"$work/changed.txt")
run_id=$$

# Seconds of CPU the PostgreSQL server used so far (0 when it is not local).
pg_cpu() {
  local pidfile=$RDAPSYNC_SERVERS_DIR/postgres/data/postmaster.pid pid
  [ -r "$pidfile" ] || { echo 0; return; }
  pid=$(head -1 "$pidfile")
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15 + $16 + $17) / hz }' "/proc/$pid/stat" 2>/dev/null || echo 0
}

# pipeline NAME TRANSFORMS_YAML SINK_YAML: writes the file and runs it;
# prints "wall_s client_cpu_s server_cpu_s".
pipeline() {
  local name=$1 transforms=$2 sink=$3
  cat >"$work/$name.yaml" <<YAML
state_dir: $work/state-$name
pipelines:
  - name: bench
    source: { plugin: file, config: { path: "$work/in.jsonl" } }
    transforms: $transforms
    sink: $sink
    batch: { max_records: 1000, max_wait: 50ms, transform_thread: $thread }
YAML
  local start end cpu0 cpu1 client
  cpu0=$(pg_cpu)
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$work/$name.time" "$bin" run "$work/$name.yaml" >"$work/$name.log" 2>&1 ||
    { tail -20 "$work/$name.log" >&2; exit 1; }
  end=$(date +%s.%N)
  # The session's backend exits after the run; its time counts once the
  # postmaster has reaped it.
  sleep 2
  cpu1=$(pg_cpu)
  client=$(awk '{ print $1 + $2 }' "$work/$name.time")
  echo "$start $end $client $cpu0 $cpu1" | awk '{ printf "%.3f %.2f %.2f", $2 - $1, $3, $5 - $4 }'
}

# TOPIC: bytes of the messages' values and keys
topic_bytes() {
  kcat -C -b "$RDAPSYNC_KAFKA_BROKERS" -t "$1" -e -q -f '%S %k\n' 2>/dev/null |
    awk '{ n += $1 + length($2) } END { print n + 0 }'
}

kafka_sink() { printf '{ plugin: kafka, config: { brokers: "%s", topic: %s } }' "$RDAPSYNC_KAFKA_BROKERS" "$1"; }
pg_sink() { printf '{ plugin: postgres, config: { dsn: "${env:RDAPSYNC_PG_DSN}", table: %s } }' "$1"; }

kafka_runs() {
  say "kafka"
  for t in base full patch; do scripts/servers/kafka.sh create-topic "delta_${t}_$run_id" 1 >&2; done
  local t_k0 t_k1 t_k2 b0 b1 b2 k0 k1 k2
  t_k0=$(pipeline kafka-base "[]" "$(kafka_sink "delta_base_$run_id")")
  t_k1=$(pipeline kafka-full "[ { plugin: delta } ]" "$(kafka_sink "delta_full_$run_id")")
  t_k2=$(pipeline kafka-patch "[ { plugin: delta, config: { emit: merge-patch } } ]" "$(kafka_sink "delta_patch_$run_id")")
  b0=$(topic_bytes "delta_base_$run_id")
  b1=$(topic_bytes "delta_full_$run_id")
  b2=$(topic_bytes "delta_patch_$run_id")
  read -ra k0 <<<"$t_k0"; read -ra k1 <<<"$t_k1"; read -ra k2 <<<"$t_k2"
  echo "                                     bytes   of base   wall s  rdapsync cpu s"
  awk -v b0="$b0" -v b1="$b1" -v b2="$b2" -v w0="${k0[0]}" -v w1="${k1[0]}" -v w2="${k2[0]}" \
      -v c0="${k0[1]}" -v c1="${k1[1]}" -v c2="${k2[1]}" 'BEGIN {
    printf "kafka  without delta      %12d            %7.2f  %7.2f\n", b0, w0, c0
    printf "kafka  delta, full        %12d  %6.2f%%   %7.2f  %7.2f   target <= 15%%\n", b1, 100 * b1 / b0, w1, c1
    printf "kafka  delta, merge-patch %12d  %6.2f%%   %7.2f  %7.2f\n", b2, 100 * b2 / b0, w2, c2 }'
}

# ROUNDS pairs of runs (without, then with delta), each into fresh tables;
# a ratio per pair, then the medians.
pg_runs() {
  local r t_p0 t_p1 p0 p1 ratios=()
  echo "                                 rec/s (wall)   wall s  rdapsync cpu s  server cpu s  rec per cpu s (both)"
  for ((r = 1; r <= rounds; r++)); do
    say "postgres, round $r of $rounds"
    t_p0=$(pipeline "pg-base-$r" "[]" "$(pg_sink "delta_base_${run_id}_$r")")
    t_p1=$(pipeline "pg-delta-$r" "[ { plugin: delta } ]" "$(pg_sink "delta_delta_${run_id}_$r")")
    psql -X -q "$RDAPSYNC_PG_DSN" -c "DROP VIEW IF EXISTS delta_base_${run_id}_${r}_live, delta_delta_${run_id}_${r}_live;
      DROP TABLE IF EXISTS delta_base_${run_id}_$r, delta_delta_${run_id}_$r" >/dev/null 2>&1 || true
    read -ra p0 <<<"$t_p0"; read -ra p1 <<<"$t_p1"
    awk -v n="$events" -v r="$r" -v w0="${p0[0]}" -v w1="${p1[0]}" -v c0="${p0[1]}" -v c1="${p1[1]}" \
        -v s0="${p0[2]}" -v s1="${p1[2]}" 'BEGIN {
      printf "postgres  without delta   %10.0f   %7.2f  %7.2f         %7.2f       %10.0f\n", n / w0, w0, c0, s0, n / (c0 + s0)
      printf "postgres  delta           %10.0f   %7.2f  %7.2f         %7.2f       %10.0f\n", n / w1, w1, c1, s1, n / (c1 + s1)
      printf "postgres  ratio, round %d (delta / without): %.2fx by wall time, %.2fx by CPU time   target >= 2x\n", r,
        w0 / w1, (c0 + s0) / (c1 + s1) }'
  done
}

echo
echo "delta benchmark: $events events, $keys keys, $changed changed (the rest repeat their key's document), transform_thread: $thread"
[ "$only" = postgres ] || kafka_runs
[ "$only" = kafka ] || pg_runs | tee "$work/pg.out"
[ "$only" = kafka ] || awk '/ratio, round/ { w[++n] = $8 + 0; c[n] = $12 + 0 }
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END { if (n > 1) printf "postgres  median of %d rounds: %.2fx by wall time, %.2fx by CPU time\n", n, median(w, n), median(c, n) }' "$work/pg.out"
