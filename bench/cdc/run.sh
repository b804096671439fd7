#!/usr/bin/env bash
# CDC latency and throughput with the real Debezium PostgreSQL connector:
# a committed UPDATE in the source database -> Debezium (pgoutput, Kafka
# Connect) -> the broker -> rdapsync (kafka source, format debezium,
# document: doc) -> normalize -> redact (gdpr-enterprise) -> postgres sink
# in another database.
#
#   bench/cdc/run.sh                       # 10,000 rows, 1,000 and 5,000 changes/s, then unthrottled
#   RATES="1000 2000 5000" SECONDS_PER_STEP=30 bench/cdc/run.sh
#
# Needs the project's servers, started and their `env` exported:
# scripts/servers/postgres.sh, kafka.sh and kafka-connect.sh
# (RDAPSYNC_PG_DSN, RDAPSYNC_KAFKA_BROKERS, RDAPSYNC_CONNECT_URL).
#
# Rows:
#   rate R/s      pgbench commits UPDATEs of ROWS_PER_TX rows (default 10) at
#                 R/ROWS_PER_TX transactions/s for SECONDS_PER_STEP s: R
#                 changes/s. (One row per commit, the fsyncs of this machine's
#                 PostgreSQL stop at a few hundred commits/s.) Latency of each change = the moment the
#                 sink wrote the target row (clock_timestamp() in a trigger,
#                 inside the sink's transaction, which commits right after)
#                 minus the source commit time (Debezium's source.ts_ms, the
#                 row's event_time_ms with event_time: source): p50, p99, max.
#                 kafka/s: messages Debezium appended to the topic while
#                 pgbench ran, per second (what Connect kept up with).
#   unthrottled   pgbench as fast as it goes with 4 clients (the baseline:
#                 what the source alone commits while Debezium reads it), and
#                 the rate at which the redacted rows land in the target over
#                 the same changes: from the first commit to the last row
#                 written. Their ratio says whether the pipeline keeps up.
# Figures only: nothing here passes or fails on them.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
rows_n=${ROWS:-10000}
rates=${RATES:-"1000 5000"}
step_s=${SECONDS_PER_STEP:-20}
tasks=${TASKS:-2}
partitions=${PARTITIONS:-3}
per_tx=${ROWS_PER_TX:-10}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/cdc: %s\n' "$*" >&2; exit 1; }

[ -n "${RDAPSYNC_PG_DSN:-}" ] || die "RDAPSYNC_PG_DSN is not set (scripts/servers/postgres.sh start; eval \"\$(scripts/servers/postgres.sh env)\")"
[ -n "${RDAPSYNC_KAFKA_BROKERS:-}" ] || die "RDAPSYNC_KAFKA_BROKERS is not set (scripts/servers/kafka.sh start; eval \"\$(scripts/servers/kafka.sh env)\")"
[ -n "${RDAPSYNC_CONNECT_URL:-}" ] || die "RDAPSYNC_CONNECT_URL is not set (scripts/servers/kafka-connect.sh start; eval \"\$(scripts/servers/kafka-connect.sh env)\")"
command -v pgbench >/dev/null || die "pgbench not found (Debian package postgresql, scripts/deps.sh test)"
command -v jq >/dev/null || die "jq not found"
command -v kcat >/dev/null || die "kcat not found (scripts/deps.sh test)"

say "build (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDAPSYNC_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_kafka rdapsync_sink_postgres rdapsync_transform_redact \
  rdapsync_transform_normalize rdapsync_sink_file rdapgen kafka_feed >/dev/null
rdapgen=$build/tools/rdapgen/rdapgen
feed=$build/tests/integration/kafka/kafka_feed
export RDAPSYNC_PLUGIN_PATH=$build/plugins

pg_port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$RDAPSYNC_PG_DSN")
P="cdcbench_$(date +%s)"
src_dsn="host=127.0.0.1 port=$pg_port dbname=$P user=postgres"
table="${P}_dst"
src() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$src_dsn" "$@"; }
dst() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-cdc.XXXXXX")
pid=""
cleanup() {
  [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
  curl -sS -X DELETE "$RDAPSYNC_CONNECT_URL/connectors/$P" >/dev/null 2>&1 || true
  local _
  for _ in $(seq 1 60); do
    dst -c "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE slot_name = '$P'" \
      >/dev/null 2>&1 && break
    sleep 0.5
  done
  dst -c "DROP DATABASE IF EXISTS $P" >/dev/null 2>&1 || true
  dst -c "DROP TABLE IF EXISTS $table, ${table}_lat CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "source database $P: $rows_n rows of rdap_domains(handle, doc jsonb)"
"$rdapgen" --count "$rows_n" --size 1500 --seed 31 -o "$work/rows.jsonl"
dst -c "CREATE DATABASE $P"
src -c "CREATE TABLE rdap_domains (handle text PRIMARY KEY, doc jsonb)" \
    -c "CREATE TABLE staging (n serial PRIMARY KEY, line jsonb)" \
    -c "\\copy staging (line) FROM '$work/rows.jsonl' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')" \
    -c "INSERT INTO rdap_domains SELECT line->>'handle', line FROM staging ON CONFLICT DO NOTHING" \
    -c "CREATE TABLE keys AS SELECT row_number() OVER (ORDER BY handle) AS n, handle FROM rdap_domains" \
    -c "ALTER TABLE keys ADD PRIMARY KEY (n)"
nkeys=$(src -c "SELECT count(*) FROM keys")

# The target table as the sink creates it, with a trigger that logs when
# each change was written.
dst <<SQL
CREATE TABLE $table (key text PRIMARY KEY, doc jsonb, deleted boolean NOT NULL DEFAULT false,
  event_time_ms bigint NOT NULL, origin text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
  src_stream text, src_partition integer, src_offset bigint, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE ${table}_lat (event_time_ms bigint, written_ms bigint);
CREATE FUNCTION ${table}_log() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO ${table}_lat VALUES (NEW.event_time_ms, (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
  RETURN NEW;
END \$\$;
CREATE TRIGGER ${table}_log AFTER INSERT OR UPDATE ON $table FOR EACH ROW EXECUTE FUNCTION ${table}_log();
SQL

"$feed" --brokers "$RDAPSYNC_KAFKA_BROKERS" --topic "$P.public.rdap_domains" --create "$partitions"
"$feed" --brokers "$RDAPSYNC_KAFKA_BROKERS" --topic "__debezium-heartbeat.$P" --create 1
cat >"$work/connector.json" <<JSON
{"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "tasks.max": "1",
 "database.hostname": "127.0.0.1", "database.port": "$pg_port", "database.user": "postgres",
 "database.password": "", "database.dbname": "$P", "topic.prefix": "$P", "plugin.name": "pgoutput",
 "slot.name": "$P", "publication.name": "$P", "publication.autocreate.mode": "filtered",
 "table.include.list": "public.rdap_domains", "snapshot.mode": "initial",
 "heartbeat.interval.ms": "1000", "poll.interval.ms": "50", "max.batch.size": "4096", "max.queue.size": "16384"}
JSON
bash scripts/servers/kafka-connect.sh register "$P" "$work/connector.json"
bash scripts/servers/kafka-connect.sh wait-running "$P" 120

cat >"$work/p.yaml" <<YAML
state_dir: $work/state
pipelines:
  - name: cdc
    tasks: $tasks
    source:
      plugin: kafka
      config:
        brokers: "$RDAPSYNC_KAFKA_BROKERS"
        topics: [$P.public.rdap_domains, __debezium-heartbeat.$P]
        group: $P
        format: debezium
        key_path: handle
        document: doc
        event_time: source
        properties: { fetch.wait.max.ms: "20" }
    transforms:
      - { plugin: normalize, config: { error_value: clear } }
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: "$root/config/policies" } }
    sink:
      plugin: postgres
      config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $table, create_table: false }
    batch: { max_records: 1000, max_wait: 20ms }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "$work/dlq-{task}.jsonl" } } }
YAML
"$build/host/rdapsync" run "$work/p.yaml" >"$work/rdapsync.log" 2>&1 &
pid=$!

wait_rows() { # N: until the latency log holds N rows, or rdapsync dies
  local n=$1
  until [ "$(dst -c "SELECT count(*) FROM ${table}_lat")" -ge "$n" ]; do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$work/rdapsync.log" >&2; die "rdapsync died"; }
    sleep 0.5
  done
}
say "snapshot of $nkeys rows"
t0=$(date +%s%3N)
wait_rows "$nkeys"
snap_s=$(awk -v ms=$(($(date +%s%3N) - t0)) 'BEGIN { printf "%.1f", ms / 1000 }')
say "snapshot in the target after ${snap_s}s"

cat >"$work/update.sql" <<SQL
\\set n random(1, $((nkeys - per_tx + 1)))
UPDATE rdap_domains SET doc = jsonb_set(doc, '{port43}', to_jsonb(clock_timestamp()::text))
 WHERE handle IN (SELECT handle FROM keys WHERE n BETWEEN :n AND :n + $((per_tx - 1)));
SQL

# Messages in the data topic (the sum of its partitions' end offsets).
topic_end() {
  local p s=0 o
  for ((p = 0; p < partitions; p++)); do
    o=$(kcat -b "$RDAPSYNC_KAFKA_BROKERS" -Q -t "$P.public.rdap_domains:$p:-1" 2>/dev/null | awk '{print $NF}')
    s=$((s + ${o:-0}))
  done
  echo "$s"
}

# step LABEL PGBENCH_ARGS...: prints "label commits/s p50 p99 max written/s rows changes kafka/s"
step() {
  local label=$1; shift
  dst -c "TRUNCATE ${table}_lat"
  local out k0 k1
  k0=$(topic_end)
  out=$(pgbench -n -h 127.0.0.1 -p "$pg_port" -U postgres -f "$work/update.sql" -T "$step_s" "$@" "$P" 2>&1) ||
    { printf '%s\n' "$out" >&2; die "pgbench failed"; }
  k1=$(topic_end)
  local done_tx tps
  done_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n 1)
  # Two changes of one key in the same sink batch are written once (the
  # newer): wait for 95 % of the changes, then until the count holds still.
  wait_rows $((done_tx * per_tx * 95 / 100))
  local before=-1 now
  while now=$(dst -c "SELECT count(*) FROM ${table}_lat") && [ "$now" != "$before" ]; do
    before=$now
    sleep 2
  done
  dst -c "SELECT '$label', round($tps), percentile_disc(0.5) WITHIN GROUP (ORDER BY written_ms - event_time_ms),
                 percentile_disc(0.99) WITHIN GROUP (ORDER BY written_ms - event_time_ms),
                 max(written_ms - event_time_ms),
                 round(count(*) * 1000.0 / greatest(max(written_ms) - min(event_time_ms), 1)), count(*),
                 $((done_tx * per_tx)), $(((k1 - k0) / step_s))
            FROM ${table}_lat" | tr '|' ' '
}

results=()
for r in $rates; do
  say "$r changes/s for ${step_s}s"
  results+=("$(step "rate_$r" -R $((r / per_tx)) -c 4 -j 2)")
done
say "unthrottled for ${step_s}s"
results+=("$(step unthrottled -c 4 -j 2)")

dead=$(cat "$work"/dlq-*.jsonl 2>/dev/null | wc -l)
echo
echo "CDC: PostgreSQL -> Debezium 3.6.1 (Kafka Connect 4.3) -> Kafka -> rdapsync normalize+redact -> PostgreSQL"
echo "$nkeys rows of ~1.5 KB; $per_tx rows per transaction; $tasks tasks, $partitions partitions;" \
  "snapshot in the target after ${snap_s}s; $dead dead letters"
printf '%-14s %10s %9s %9s %9s %9s %10s %9s %9s\n' step "changes/s" "kafka/s" "p50 ms" "p99 ms" "max ms" \
  "written/s" rows changes
for line in "${results[@]}"; do
  # shellcheck disable=SC2086 # one row of fields
  set -- $line
  printf '%-14s %10s %9s %9s %9s %9s %10s %9s %9s\n' "$1" $(($2 * per_tx)) "$9" "$3" "$4" "$5" "$6" "$7" "$8"
done
last=${results[${#results[@]}-1]}
# shellcheck disable=SC2086
set -- $last
awk -v src=$(($2 * per_tx)) -v dst="$6" 'BEGIN { printf "unthrottled: rows written per second / source changes per second = %.2f\n", dst / src }'
