#!/usr/bin/env bash
# Kafka pipelines' throughput, memory and end-to-end latency, against kcat
# consuming the same topic in the same run.
#
#   bench/kafka/run.sh                  # 200,000 ~4 KB Debezium changes, 6 partitions
#   RECORDS=50000 bench/kafka/run.sh
#
# Needs the project's servers: scripts/servers/kafka.sh start and
# scripts/servers/postgres.sh start, with what their `env` verbs print
# exported (RDAPSYNC_KAFKA_BROKERS, RDAPSYNC_PG_DSN).
#
# Rows (each `rdapsync run`, TASKS tasks in one consumer group, BATCH-record
# batches, the topic read from its beginning):
#   kcat -C            kcat consuming the whole topic to /dev/null (the baseline)
#   ceiling            bench/kafka/kafka_ceiling: librdkafka + a jansson parse of
#                      every message, nothing else (what any JSON pipeline on
#                      these libraries can reach on this machine; one thread)
#   kafka->discard     kafka source (debezium) -> discard sink
#   kafka->redact->kafka  kafka source -> redact (gdpr-standard) -> kafka sink
#   kafka->postgres    kafka source -> postgres sink (version-guarded upserts)
#   latency            kafka->postgres while kafka_feed produces at a steady RATE
#                      records/s: producer timestamp -> commit() of the source
#                      (after the sink's flush), p50 / p99 from the source's log
# Throughput is counted from the first partition assignment to the moment
# the tasks' checkpoints cover every message; peak RSS is the process's
# VmHWM. Target: kafka->discard >= 0.8 x kcat; the ratio to the ceiling
# shows what rdapsync itself costs on top of parsing. Figures only: nothing here
# passes or fails on them.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-200000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
batch=${BATCH:-1000}
tasks=${TASKS:-2}
rate=${RATE:-5000}
latency_records=${LATENCY_RECORDS:-60000}
# Extra librdkafka consumer properties for the source and the ceiling, as
# space-separated name=value pairs (e.g. "queued.max.messages.kbytes=65536").
source_props=${SOURCE_PROPERTIES:-}
# Which rows to run (kcat and the ceiling always run: they are the baselines).
rows=${ROWS:-"discard redact postgres latency"}
want() { case " $rows " in *" $1 "*) return 0 ;; esac; return 1; }
props_yaml=""
for kv in $source_props; do props_yaml+="${props_yaml:+, }\"${kv%%=*}\": \"${kv#*=}\""; done
[ -z "$props_yaml" ] || props_yaml=", properties: { $props_yaml }"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/kafka: %s\n' "$*" >&2; exit 1; }

[ -n "${RDAPSYNC_KAFKA_BROKERS:-}" ] || die "RDAPSYNC_KAFKA_BROKERS is not set (scripts/servers/kafka.sh start; eval \"\$(scripts/servers/kafka.sh env)\")"
[ -n "${RDAPSYNC_PG_DSN:-}" ] || die "RDAPSYNC_PG_DSN is not set (scripts/servers/postgres.sh start; eval \"\$(scripts/servers/postgres.sh env)\")"
command -v kcat >/dev/null || die "kcat not found (scripts/deps.sh test)"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (Debian package time)"
brokers=$RDAPSYNC_KAFKA_BROKERS

say "build (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDAPSYNC_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_kafka rdapsync_sink_kafka rdapsync_sink_discard \
  rdapsync_sink_postgres rdapsync_transform_redact rdapgen kafka_feed kafka_ceiling json_ceiling >/dev/null
rdapgen=$build/tools/rdapgen/rdapgen
feed=$build/tests/integration/kafka/kafka_feed
ceiling=$build/bench/kafka/kafka_ceiling
[ -x "$feed" ] || die "kafka_feed was not built (it needs RDAPSYNC_BUILD_TESTS=ON)"
export RDAPSYNC_PLUGIN_PATH=$build/plugins

mkdir -p "$build/bench-data"
data=$build/bench-data/domains-$records-$size-$seed.envelope.jsonl
if [ ! -s "$data" ]; then
  say "generating $records changes of ~$size bytes into $data"
  "$rdapgen" --format envelope --count "$records" --seed "$seed" --size "$size" -o "$data.tmp"
  mv "$data.tmp" "$data"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-kafka.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
run_id=$(date +%s)
topic=bench_in_$run_id
"$feed" --brokers "$brokers" --topic "$topic" --create 6
"$feed" --brokers "$brokers" --topic "bench_out_$run_id" --create 6
"$feed" --brokers "$brokers" --topic "bench_lat_$run_id" --create 6
say "producing $records Debezium changes into $topic"
"$feed" --brokers "$brokers" --topic "$topic" --format debezium "$data" >&2
messages=$records
bytes=$(kcat -b "$brokers" -C -t "$topic" -o beginning -e -q -f '%S\n' | awk '{s += $1} END {print s}')

now_ms() { date +%s%3N; }
log_ms() { date -d "$(sed -n 's/^ts=\([^ ]*\).*/\1/p' <<<"$1")" +%s%3N; }

# covered DIR: messages the checkpoints under DIR cover (the highest offset
# of each partition, whichever task wrote it).
covered() {
  cat "$1"/*/task-*/checkpoint.json 2>/dev/null | grep -o '"partition":[0-9]*,"offset":[0-9]*' |
    awk -F'[:,]' '{ if ($4 > m[$2]) m[$2] = $4 } END { s = 0; for (p in m) s += m[p]; print s }'
}

# run_pipeline NAME YAML_SINK_AND_TRANSFORMS GROUP_TOPIC COUNT: prints "seconds rss_kb"
run_pipeline() {
  local name=$1 body=$2 in=$3 count=$4
  local dir=$work/$name
  mkdir -p "$dir"
  cat >"$dir/p.yaml" <<YAML
state_dir: $dir/state
pipelines:
  - name: $name
    tasks: $tasks
    source:
      plugin: kafka
      config: { brokers: "$brokers", topics: [$in], group: "${name}_$run_id", format: debezium$props_yaml }
$body
    batch: { max_records: $batch, max_wait: 200ms }
    errors: { tolerance: none }
YAML
  "$build/host/rdapsync" run "$dir/p.yaml" >"$dir/log" 2>&1 &
  local pid=$! rss=0 hwm
  pids+=("$pid")
  while [ "$(covered "$dir/state")" -lt "$count" ]; do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/log" >&2; die "$name: rdapsync died"; }
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${hwm:-0}" -gt "$rss" ] && rss=$hwm
    sleep 0.1
  done
  local end=$(now_ms)
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  [ "${hwm:-0}" -gt "$rss" ] && rss=$hwm
  kill -TERM "$pid"
  wait "$pid" || die "$name: rdapsync exited with an error (see $dir/log)"
  local start
  start=$(log_ms "$(grep -m1 'msg="assigned' "$dir/log")")
  awk -v ms=$((end - start)) -v rss="$rss" 'BEGIN { printf "%.3f %d\n", ms / 1000, rss }'
}

row() { # NAME SECONDS RSS_KB COUNT
  awk -v n="$1" -v s="$2" -v r="$3" -v c="$4" -v b="$bytes" -v m="$messages" \
    'BEGIN { printf "%-22s %8.2f s %10.0f rec/s %8.1f MB/s %8.1f MB peak RSS\n", n, s, c / s, b * c / m / s / 1e6, r / 1024 }'
}

say "kcat -C (baseline)"
kcat_out=$( { /usr/bin/time -f '%e %M' kcat -b "$brokers" -C -t "$topic" -o beginning -e -q -f '%s\n' >/dev/null; } 2>&1 | tail -1)
kcat_s=${kcat_out% *}
kcat_rss=${kcat_out#* }

say "ceiling (librdkafka + the host's JSON parse)"
# The source's own fetch defaults, then SOURCE_PROPERTIES: both fetch alike.
# shellcheck disable=SC2086 # a list of name=value words
ceiling_out=$( { /usr/bin/time -f '%M' "$ceiling" "$brokers" "$topic" fetch.wait.max.ms=100 \
  queued.max.messages.kbytes=8192 fetch.max.bytes=1048576 $source_props; } 2>&1 | tail -2 | paste -sd' ')
ceiling_s=$(awk '{print $2}' <<<"$ceiling_out")
ceiling_rss=$(awk '{print $3}' <<<"$ceiling_out")

say "validation floor (yajl over the same documents, no tree, one thread)"
validate_out=$("$build/bench/file/json_ceiling" --validate "$data")
validate_s=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$validate_out")
validate_n=$(sed -n 's/.*records=\([0-9]*\).*/\1/p' <<<"$validate_out")

discard_s=0 discard_rss=0 redact_s=0 redact_rss=0 pg_s=0 pg_rss=0 lat_rss=0 latency_line=""
if want discard; then
say "kafka -> discard"
read -r discard_s discard_rss < <(run_pipeline discard "    sink: { plugin: discard }" "$topic" "$messages")
fi
if want redact; then
say "kafka -> redact -> kafka"
read -r redact_s redact_rss < <(run_pipeline redact "    transforms:
      - { plugin: redact, config: { policy: gdpr-standard, policy_dir: $root/config/policies } }
    sink: { plugin: kafka, config: { brokers: \"$brokers\", topic: bench_out_$run_id } }" "$topic" "$messages")
fi
table=bench_$run_id
if want postgres; then
say "kafka -> postgres"
read -r pg_s pg_rss < <(run_pipeline postgres "    sink: { plugin: postgres, config: { dsn: \"\${env:RDAPSYNC_PG_DSN}\", table: $table, compression: lz4 } }" "$topic" "$messages")
fi

if want latency; then
say "latency: kafka -> postgres at a steady $rate records/s ($latency_records records)"
lat_dir=$work/latency
mkdir -p "$lat_dir"
head -n "$latency_records" "$data" >"$lat_dir/in.jsonl"
(
  # Produce once the pipeline has its partitions, at a fixed rate.
  while ! grep -q 'msg="assigned' "$lat_dir/log" 2>/dev/null; do sleep 0.1; done
  "$feed" --brokers "$brokers" --topic "bench_lat_$run_id" --format debezium --rate "$rate" "$lat_dir/in.jsonl" \
    >"$lat_dir/feed.txt"
) &
feeder=$!
pids+=("$feeder")
read -r lat_s lat_rss < <(tasks=1 run_pipeline latency "    sink: { plugin: postgres, config: { dsn: \"\${env:RDAPSYNC_PG_DSN}\", table: ${table}_lat, compression: lz4 } }" "bench_lat_$run_id" "$latency_records")
wait "$feeder"
latency_line=$(grep -o 'end-to-end latency[^"]*' "$lat_dir/log" | head -1)
fi

psql -X -q -At "$RDAPSYNC_PG_DSN" -c "DROP TABLE IF EXISTS $table, ${table}_lat CASCADE" >/dev/null 2>&1 || true

echo
echo "kafka benchmarks: $messages records, $(awk -v b="$bytes" -v m="$messages" 'BEGIN { printf "%.0f", b / m }') bytes each on average, 6 partitions, $tasks tasks, batches of $batch"
row "kcat -C" "$kcat_s" "$kcat_rss" "$messages"
row "ceiling" "$ceiling_s" "$ceiling_rss" "$messages"
want discard && row "kafka->discard" "$discard_s" "$discard_rss" "$messages"
want redact && row "kafka->redact->kafka" "$redact_s" "$redact_rss" "$messages"
want postgres && row "kafka->postgres" "$pg_s" "$pg_rss" "$messages"
want discard && awk -v d="$discard_s" -v k="$kcat_s" -v c="$ceiling_s" -v t="$tasks" \
  'BEGIN { printf "kafka->discard / kcat -C: %.2f x (target >= 0.80); / ceiling: %.2f x (%s tasks against one thread)\n", k / d, c / d, t }'
awk -v k="$kcat_s" -v m="$messages" -v vs="$validate_s" -v vn="$validate_n" 'BEGIN {
  printf "0.8 x kcat needs %.0f rec/s; yajl validating alone (no tree, no librdkafka) does %.0f rec/s per CPU: %.2f CPUs of %d for validation only\n", 0.8 * m / k, vn / vs, (0.8 * m / k) / (vn / vs), '"$(nproc)"'
}'
echo "load average (1, 5, 15 min) at the end: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) cores"
if want latency; then
  echo "latency at $rate records/s, $latency_records records, 1 task, kafka->postgres: ${latency_line:-no samples} (peak RSS $((lat_rss / 1024)) MB)"
fi
