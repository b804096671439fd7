#!/usr/bin/env bash
# Kafka pipelines' own CPU per record with lazy documents against the tree
# parser (RDAPSYNC_JSON_PARSER=tree), in the same run, on the same topics,
# and kafka -> discard against kcat -C.
#
#   bench/json/kafka.sh                 # 50,000 ~4 KB RDAP domains
#   RECORDS=20000 bench/json/kafka.sh
#
# Needs the project's Kafka (and, for the postgres rows, PostgreSQL):
# scripts/servers/kafka.sh start; eval "$(scripts/servers/kafka.sh env)"
# (RDAPSYNC_KAFKA_BROKERS), the same for postgres.sh (RDAPSYNC_PG_DSN).
# kcat comes from Debian (installed when missing).
#
# Rows, one task each, the topic (6 partitions) read from its beginning:
#   kcat -C                      the json topic to /dev/null (the baseline)
#   json->discard                kafka source (format json) -> discard
#   debezium->discard            kafka source (format debezium) -> discard
#   json->postgres               kafka source (json) -> postgres sink
#   debezium->postgres           kafka source (debezium) -> postgres sink
#   json->normalize->redact->kafka
# Time runs from the partition assignment to the checkpoints covering every
# message; CPU is the rdapsync process's user + system time (/proc) over the
# records; peak RSS its VmHWM. Targets: discard <= 8 µs/record, postgres
# <= 12 µs/record, json->discard >= 0.8 x kcat, normalize->redact->kafka
# >= 48,000 rec/s, peak RSS <= 32 MB. Figures only.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-50000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
batch=${BATCH:-1000}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/json/kafka: %s\n' "$*" >&2; exit 1; }

[ -n "${RDAPSYNC_KAFKA_BROKERS:-}" ] || die "RDAPSYNC_KAFKA_BROKERS is not set (scripts/servers/kafka.sh start)"
brokers=$RDAPSYNC_KAFKA_BROKERS
if ! command -v kcat >/dev/null; then
  say "installing Debian's kcat"
  apt-get install -y -qq kcat >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq kcat >/dev/null; }
fi

say "build (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDAPSYNC_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_kafka rdapsync_sink_kafka rdapsync_sink_discard \
  rdapsync_sink_postgres rdapsync_transform_normalize rdapsync_transform_redact rdapgen kafka_feed >/dev/null
feed=$build/tests/integration/kafka/kafka_feed
export RDAPSYNC_PLUGIN_PATH=$build/plugins

mkdir -p "$build/bench-data"
data=$build/bench-data/domains-$records-$size-$seed.envelope.jsonl
if [ ! -s "$data" ]; then
  "$build/tools/rdapgen/rdapgen" --format envelope --count "$records" --seed "$seed" --size "$size" -o "$data.tmp"
  mv "$data.tmp" "$data"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-json-kafka.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
run_id=$(date +%s)
for fmt in json debezium; do
  "$feed" --brokers "$brokers" --topic "lazy_${fmt}_$run_id" --create 6
  say "producing $records $fmt messages"
  "$feed" --brokers "$brokers" --topic "lazy_${fmt}_$run_id" --format "$fmt" "$data" >&2
done
"$feed" --brokers "$brokers" --topic "lazy_out_$run_id" --create 6
json_messages=$(kcat -b "$brokers" -C -t "lazy_json_$run_id" -o beginning -e -q -f '\n' | wc -l)
dbz_messages=$(kcat -b "$brokers" -C -t "lazy_debezium_$run_id" -o beginning -e -q -f '\n' | wc -l)

covered() { # DIR: messages the checkpoints under DIR cover
  cat "$1"/*/task-*/checkpoint.json 2>/dev/null | grep -o '"partition":[0-9]*,"offset":[0-9]*' |
    awk -F'[:,]' '{ if ($4 > m[$2]) m[$2] = $4 } END { s = 0; for (p in m) s += m[p]; print s }'
}
cpu_s() { # PID: user + system seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

# run NAME PARSER FORMAT COUNT BODY: prints "seconds cpu_seconds rss_kb"
run() {
  local name=$1 parser=$2 fmt=$3 count=$4 body=$5 dir=$work/$1-$2 pid rss=0 hwm cpu start end
  mkdir -p "$dir"
  cat >"$dir/p.yaml" <<YAML
state_dir: $dir/state
pipelines:
  - name: $name
    tasks: 1
    source:
      plugin: kafka
      config: { brokers: "$brokers", topics: [lazy_${fmt}_$run_id], group: "${name}_${parser}_$run_id", format: $fmt }
$body
    batch: { max_records: $batch, max_wait: 200ms }
    errors: { tolerance: none }
YAML
  RDAPSYNC_JSON_PARSER=$parser "$build/host/rdapsync" run "$dir/p.yaml" >"$dir/log" 2>&1 &
  pid=$!
  pids+=("$pid")
  while [ "$(covered "$dir/state")" -lt "$count" ]; do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/log" >&2; die "$name: rdapsync died"; }
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${hwm:-0}" -gt "$rss" ] && rss=$hwm
    sleep 0.1
  done
  end=$(date +%s%3N)
  cpu=$(cpu_s "$pid")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  [ "${hwm:-0}" -gt "$rss" ] && rss=$hwm
  kill -TERM "$pid"
  wait "$pid" || die "$name: rdapsync exited with an error (see $dir/log)"
  start=$(date -d "$(sed -n 's/^ts=\([^ ]*\) .*msg="assigned.*/\1/p' "$dir/log" | head -1)" +%s%3N)
  awk -v ms=$((end - start)) -v c="$cpu" -v r="$rss" 'BEGIN { printf "%.3f %.3f %d\n", ms / 1000, c, r }'
}

say "kcat -C"
kcat_s=$( { /usr/bin/time -f '%e' kcat -b "$brokers" -C -t "lazy_json_$run_id" -o beginning -e -q >/dev/null; } 2>&1 | tail -1)

declare -A secs cpu rss count
table=lazy_$run_id
drop_table() { psql -X -q -At "$RDAPSYNC_PG_DSN" -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1 || true; }
rows=("json->discard" "debezium->discard" "json->normalize->redact->kafka")
[ -n "${RDAPSYNC_PG_DSN:-}" ] && rows+=("json->postgres" "debezium->postgres")
for row in "${rows[@]}"; do
  fmt=json n=$json_messages
  case $row in debezium*) fmt=debezium n=$dbz_messages ;; esac
  case $row in
    *discard) body="    sink: { plugin: discard }" ;;
    *postgres) body="    sink: { plugin: postgres, config: { dsn: \"\${env:RDAPSYNC_PG_DSN}\", table: $table } }" ;;
    *) body="    transforms:
      - { plugin: normalize }
      - { plugin: redact, config: { policy: gdpr-standard, policy_dir: $root/config/policies } }
    sink: { plugin: kafka, config: { brokers: \"$brokers\", topic: lazy_out_$run_id } }" ;;
  esac
  for parser in tree lazy; do
    say "$row ($parser)"
    case $row in *postgres) drop_table ;; esac
    read -r s c r < <(run "${row//[^a-z]/_}" "$parser" "$fmt" "$n" "$body")
    secs[$row/$parser]=$s cpu[$row/$parser]=$c rss[$row/$parser]=$r count[$row]=$n
  done
done
if [ -n "${RDAPSYNC_PG_DSN:-}" ]; then drop_table; fi

echo
echo "kafka record model benchmark: $json_messages records, 6 partitions, 1 task, batches of $batch ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-32s %10s %10s %8s %11s %11s %9s %9s\n' row "tree µs" "lazy µs" ratio "tree rec/s" "lazy rec/s" "tree MB" "lazy MB"
for row in "${rows[@]}"; do
  awk -v n="$row" -v ct="${cpu[$row/tree]}" -v cl="${cpu[$row/lazy]}" -v st="${secs[$row/tree]}" \
    -v sl="${secs[$row/lazy]}" -v rt="${rss[$row/tree]}" -v rl="${rss[$row/lazy]}" -v c="${count[$row]}" \
    'BEGIN { printf "%-32s %10.2f %10.2f %7.2fx %11.0f %11.0f %9.1f %9.1f\n", n, ct / c * 1e6, cl / c * 1e6, ct / cl, c / st, c / sl, rt / 1024, rl / 1024 }'
done
awk -v k="$kcat_s" -v d="${secs[json->discard/lazy]}" -v t="${secs[json->discard/tree]}" -v m="$json_messages" 'BEGIN {
  printf "kcat -C: %.2f s, %.0f rec/s; json->discard / kcat: lazy %.2f x, tree %.2f x (target >= 0.80)\n", k, m / k, k / d, k / t
}'
awk -v s="${secs[json->normalize->redact->kafka/lazy]}" -v m="$json_messages" \
  'BEGIN { printf "json->normalize->redact->kafka: %.0f rec/s (target >= 48,000: 3 x 16k)\n", m / s }'
