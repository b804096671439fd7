#!/usr/bin/env bash
# file -> mongodb throughput and memory, against the server's own unordered
# insert_many of the same documents, measured in the same run on the same
# server.
#
#   bench/mongodb/run.sh                      # 200,000 ~4 KB RDAP domains
#   RECORDS=20000 BATCH=1000 bench/mongodb/run.sh
#
# Runs, one task each, into empty collections:
#   load      rdapsync run: file -> mongodb into bench_mongo_sink (wall time
#             and peak RSS of the whole process: reading, parsing, BSON,
#             writing)
#   ceiling   bench/mongodb/mongo_ceiling: reads back every document the
#             load stored and inserts the same documents into
#             bench_mongo_ceiling with unordered insert_many of BATCH
#             documents; only the insert_many calls are timed
# Target: load >= 0.8 x ceiling, peak RSS printed. Figures only, nothing
# fails. docs/plugins/sink-mongodb.md discusses the figures.
#
# The server: RDAPSYNC_MONGO_URI if set, else scripts/servers/ferretdb.sh is
# started (and stopped again at the end).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-200000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
batch=${BATCH:-1000}
database=${MONGO_DATABASE:-rdapsync_bench}

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
cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_sink_mongodb rdapgen mongo_ceiling \
  mongo-export >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
ceiling=$(find "$build" -name mongo_ceiling -type f -perm -u+x | head -1)
mongo_export=$(find "$build" -name mongo-export -type f -perm -u+x | head -1)
[ -n "$rdapgen" ] && [ -n "$ceiling" ] && [ -n "$mongo_export" ] || { echo "a tool was not built" >&2; exit 1; }

started_server=0
if [ -z "${RDAPSYNC_MONGO_URI:-}" ]; then
  export RDAPSYNC_SERVERS_DIR=${RDAPSYNC_SERVERS_DIR:-$build/servers}
  say "starting FerretDB (scripts/servers/ferretdb.sh) in $RDAPSYNC_SERVERS_DIR"
  scripts/servers/ferretdb.sh start
  eval "$(scripts/servers/ferretdb.sh env)"
  started_server=1
fi

mkdir -p "$build/bench-data"
data=$build/bench-data/envelopes-$records-$size-$seed.jsonl
if [ ! -s "$data" ]; then
  say "generating $records change envelopes of ~$size bytes into $data"
  "$rdapgen" --format envelope --count "$records" --seed "$seed" --size "$size" -o "$data.tmp"
  mv "$data.tmp" "$data"
fi
lines=$(wc -l <"$data")

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-mongodb.XXXXXX")
collections="bench_mongo_sink bench_mongo_ceiling"
drop() { for c in $collections; do "$mongo_export" --drop "$RDAPSYNC_MONGO_URI" "$database" "$c"; done; }
cleanup() {
  drop >/dev/null 2>&1 || true
  rm -rf "$work"
  if [ "$started_server" = 1 ]; then scripts/servers/ferretdb.sh stop || true; fi
}
trap cleanup EXIT
drop
export RDAPSYNC_PLUGIN_PATH=$build/plugins

cat >"$work/load.yaml" <<YAML
state_dir: $work/state
log: { level: info }
pipelines:
  - name: bench
    tasks: 1
    source: { plugin: file, config: { path: "$data" } }
    sink: { plugin: mongodb, config: { uri: "\${env:RDAPSYNC_MONGO_URI}", database: $database, collection: bench_mongo_sink } }
    batch: { max_records: $batch, max_wait: 1s }
    errors: { tolerance: none }
YAML

# measure NAME CMD...: wall time (s) and peak RSS (KB).
measure() {
  local name=$1 t w r
  shift
  t=$work/$name.time
  /usr/bin/time -v -o "$t" "$@" >"$work/$name.log" 2>&1 || {
    tail -n 20 "$work/$name.log" >&2
    echo "$name failed" >&2
    exit 1
  }
  w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
  r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
  echo "$w $r"
}

cat "$data" >/dev/null # warm page cache
say "load: file -> mongodb, empty collection"
read -r load_wall load_rss < <(measure load "$build/host/rdapsync" run "$work/load.yaml")
server=$(grep -o 'connected to [^,]*' "$work/load.log" | head -1 | sed 's/connected to //')
mode=$(grep -o 'version guard evaluated [^;]*; arrays inside arrays [^"]*' "$work/load.log" | head -1)

say "ceiling: unordered insert_many of the same documents (reading them back is not timed)"
read -r ceil_docs ceil_seconds ceil_rate ceil_rss < <(
  /usr/bin/time -v -o "$work/ceiling.time" "$ceiling" "$RDAPSYNC_MONGO_URI" "$database" bench_mongo_sink \
    bench_mongo_ceiling "$batch" 2>"$work/ceiling.err" | tr '\n' ' '
  awk -F': ' '/Maximum resident set size/ {print $2}' "$work/ceiling.time")
[ "${ceil_docs:-0}" = "$lines" ] || { cat "$work/ceiling.err" >&2; echo "warning: the load stored ${ceil_docs:-?} documents of $lines" >&2; }

echo
echo "file -> mongodb benchmark: $lines records of ~$size bytes, one task, $batch-record batches"
echo "server: $server; $mode"
awk -v n="$lines" -v w="$load_wall" -v r="$load_rss" -v cs="$ceil_seconds" -v cr="${ceil_rss:-0}" 'BEGIN {
  printf "%-34s %8.2f s %9.0f rows/s  %6.1f MB peak RSS\n", "insert_many (ceiling, inserts only)", cs, n / cs, cr / 1024
  printf "%-34s %8.2f s %9.0f rows/s  %6.1f MB peak RSS\n", "rdapsync file -> mongodb (load)", w, n / w, r / 1024
  printf "ratio load / ceiling              : %.2f (target >= 0.80)\n", cs / w
}'
