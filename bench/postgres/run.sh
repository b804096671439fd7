#!/usr/bin/env bash
# file -> postgres throughput and memory, against COPY measured in the same
# run on the same server.
#
#   bench/postgres/run.sh                      # 200,000 ~4 KB RDAP domains
#   RECORDS=50000 BATCH=1000 bench/postgres/run.sh
#
# Data: rdapgen change envelopes cached in build/bench-data/, plus the same
# changes with newer versions (every ts_ms prefixed with a 1) for the pass
# over existing rows. Runs, one task each:
#   load        rdapsync run: file -> postgres (upsert mode) into an empty table
#   COPY        psql \copy FROM of the rows the load stored, exported as COPY
#               text, into an identical table (LIKE ... INCLUDING ALL): the ceiling
#   upsert      rdapsync run: the newer versions over the existing rows
#   sink-only   bench/postgres/pg_sink_bench: the sink's write()+flush() alone
#               (no source), for each write method, load then upsert
# Wall time and peak RSS from /usr/bin/time -v. Targets: load >= 0.9 x COPY,
# upsert >= 0.7 x COPY, peak RSS <= 32 MB. Figures only, nothing fails.
#
# The server: RDAPSYNC_PG_DSN if set, else scripts/servers/postgres.sh is
# started (and stopped again at the end).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-200000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
batch=${BATCH:-500}
methods=${METHODS:-pipeline copy}

say() { printf '==> %s\n' "$*" >&2; }

if ! [ -x /usr/bin/time ]; then
  say "installing Debian's time package (for /usr/bin/time -v)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq time >/dev/null
fi

say "build (Release) in $build"
# Warnings do not stop a benchmark: -Werror is for the CI build.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDAPSYNC_WERROR=OFF >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_sink_postgres rdapgen pg_sink_bench >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
sink_bench=$(find "$build" -name pg_sink_bench -type f -perm -u+x | head -1)
[ -n "$rdapgen" ] || { echo "rdapgen was not built" >&2; exit 1; }

started_server=0
if [ -z "${RDAPSYNC_PG_DSN:-}" ]; then
  export RDAPSYNC_SERVERS_DIR=${RDAPSYNC_SERVERS_DIR:-$build/servers}
  say "starting PostgreSQL (scripts/servers/postgres.sh) in $RDAPSYNC_SERVERS_DIR"
  scripts/servers/postgres.sh start
  eval "$(scripts/servers/postgres.sh env)"
  started_server=1
fi
pgq() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" "$@"; }

mkdir -p "$build/bench-data"
data=$build/bench-data/envelopes-$records-$size-$seed.jsonl
newer=$build/bench-data/envelopes-$records-$size-$seed.newer.jsonl
if [ ! -s "$data" ]; then
  say "generating $records change envelopes of ~$size bytes into $data"
  "$rdapgen" --format envelope --count "$records" --seed "$seed" --size "$size" -o "$data.tmp"
  mv "$data.tmp" "$data"
fi
if [ ! -s "$newer" ]; then
  sed 's/"ts_ms":/"ts_ms":1/' "$data" >"$newer.tmp"
  mv "$newer.tmp" "$newer"
fi
lines=$(wc -l <"$data")

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-postgres.XXXXXX")
tables="bench_pg_sink bench_pg_copy bench_pg_sink_pipeline bench_pg_sink_copy"
cleanup() {
  for t in $tables; do pgq -c "DROP TABLE IF EXISTS $t CASCADE" >/dev/null 2>&1 || true; done
  rm -rf "$work"
  if [ "$started_server" = 1 ]; then scripts/servers/postgres.sh stop || true; fi
}
trap cleanup EXIT
for t in $tables; do pgq -c "DROP TABLE IF EXISTS $t CASCADE"; done
export RDAPSYNC_PLUGIN_PATH=$build/plugins

pipeline() { # NAME INPUT -> config file path
  cat >"$work/$1.yaml" <<YAML
state_dir: $work/state-$1
log: { level: warn }
pipelines:
  - name: bench
    tasks: 1
    source: { plugin: file, config: { path: "$2" } }
    sink: { plugin: postgres, config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: bench_pg_sink } }
    batch: { max_records: $batch, max_wait: 1s }
YAML
  echo "$work/$1.yaml"
}

# measure NAME CMD...: wall time (s) and peak RSS (KB).
measure() {
  local name=$1 t w r
  shift
  t=$work/$name.time
  /usr/bin/time -v -o "$t" "$@" >"$work/$name.log" 2>&1 || {
    cat "$work/$name.log" >&2
    echo "$name failed" >&2
    exit 1
  }
  w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
  r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
  echo "$w $r"
}

cat "$data" "$newer" >/dev/null # warm page cache for everyone
say "load: file -> postgres, empty table"
read -r load_wall load_rss < <(measure load "$build/host/rdapsync" run "$(pipeline load "$data")")
[ "$(pgq -c "SELECT count(*) FROM bench_pg_sink")" = "$lines" ] || echo "warning: load stored fewer rows than $lines" >&2

say "COPY of the same rows into an identical table"
pgq -c "\\copy bench_pg_sink TO '$work/rows.copy'"
pgq -c "CREATE TABLE bench_pg_copy (LIKE bench_pg_sink INCLUDING ALL)"
pgq -c "CHECKPOINT"
read -r copy_wall copy_rss < <(measure copy psql -X -q -v ON_ERROR_STOP=1 "$RDAPSYNC_PG_DSN" -c "\\copy bench_pg_copy FROM '$work/rows.copy'")
rm -f "$work/rows.copy"

say "upsert: newer versions over the existing rows"
pgq -c "CHECKPOINT"
read -r upd_wall upd_rss < <(measure upsert "$build/host/rdapsync" run "$(pipeline upsert "$newer")")
stale=$(pgq -c "SELECT count(*) FROM bench_pg_sink WHERE event_time_ms < 10000000000000")
[ "$stale" = 0 ] || echo "warning: $stale rows kept their old version" >&2

sink_only=()
for method in $methods; do
  say "sink only ($method): load, then upsert"
  printf 'dsn: "${env:RDAPSYNC_PG_DSN}"\ntable: bench_pg_sink_%s\nmethod: %s\n' "$method" "$method" >"$work/sink-$method.yaml"
  pgq -c "CHECKPOINT"
  read -r _ _ _ s_load _ < <("$sink_bench" --plugin "$build/plugins/sink-postgres.so" --config "$work/sink-$method.yaml" \
    --input "$data" --batch "$batch")
  pgq -c "CHECKPOINT"
  read -r _ _ _ s_upd _ < <("$sink_bench" --plugin "$build/plugins/sink-postgres.so" --config "$work/sink-$method.yaml" \
    --input "$newer" --batch "$batch")
  sink_only+=("$method $s_load $s_upd")
done

row() { # NAME WALL [RSS_KB]
  awk -v n="$1" -v w="$2" -v r="${3:-}" -v rec="$lines" -v c="$copy_wall" \
    'BEGIN {printf "%-24s %8.2f s %9.0f rows/s  %.2f x COPY", n, w, rec / w, c / w;
            if (r != "") printf "  %6.1f MB peak RSS", r / 1024; printf "\n"}'
}
echo
echo "file -> postgres benchmark: $lines records of ~$size bytes, one task, $batch-record batches"
echo "server: $(pgq -c "SELECT version()" | cut -d, -f1); doc column compression: $(pgq -c "SELECT CASE attcompression WHEN 'l' THEN 'lz4' WHEN 'p' THEN 'pglz' ELSE 'server default' END FROM pg_attribute WHERE attrelid = 'bench_pg_sink'::regclass AND attname = 'doc'")"
row "COPY (ceiling)" "$copy_wall"
row "load (empty table)" "$load_wall" "$load_rss"
row "upsert (existing rows)" "$upd_wall" "$upd_rss"
for entry in "${sink_only[@]}"; do
  read -r method s_load s_upd <<<"$entry"
  row "sink-only $method load" "$s_load"
  row "sink-only $method upsert" "$s_upd"
done
awk -v c="$copy_wall" -v l="$load_wall" -v u="$upd_wall" -v r1="$load_rss" -v r2="$upd_rss" 'BEGIN {
  printf "ratio load / COPY             : %.2f (target >= 0.90)\n", c / l
  printf "ratio upsert / COPY           : %.2f (target >= 0.70)\n", c / u
  printf "peak RSS of rdapsync          : %.1f MB (target <= 32 MB)\n", (r1 > r2 ? r1 : r2) / 1024
}'
