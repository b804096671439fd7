#!/usr/bin/env bash
# file -> mongodb throughput and memory, against the server's own unordered
# insert_many of the same documents, measured in the same run on the same
# server.
#
#   bench/mongodb/run.sh                      # 200,000 ~4 KB RDAP domains
#   RECORDS=20000 BATCH=1000 REPEAT=3 bench/mongodb/run.sh
#
# Runs, one task each, into empty collections, REPEAT times alternately
# (the best of each counts: the machine is shared):
#   load      rdapsync run: file -> mongodb into bench_mongo_sink (wall time
#             and peak RSS of the whole process: reading, parsing, BSON,
#             writing)
#   ceiling   bench/mongodb/mongo_ceiling: builds from the same file the
#             documents the sink stores (byte-identical `doc`, the same
#             fields, arrays wrapped when the sink wraps them) and inserts
#             them into bench_mongo_ceiling with unordered insert_many of
#             BATCH documents; only the insert_many calls are timed
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
repeat=${REPEAT:-1}
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
best_load="" best_load_rss="" best_ceil="" ceil_docs=""
for run in $(seq 1 "$repeat"); do
  drop
  say "load $run/$repeat: file -> mongodb, empty collection"
  read -r load_wall load_rss < <(measure load "$build/host/rdapsync" run "$work/load.yaml")
  rm -rf "$work/state"
  server=$(grep -o 'connected to [^,]*' "$work/load.log" | head -1 | sed 's/connected to //')
  mode=$(grep -o 'version guard evaluated [^;]*; arrays inside arrays [a-z]*' "$work/load.log" | head -1)
  arrays=native
  case $mode in *wrapped*) arrays=wrap ;; esac
  drop
  say "ceiling $run/$repeat: unordered insert_many of the same documents (building them is not timed)"
  read -r ceil_docs ceil_seconds _ < <("$ceiling" "$RDAPSYNC_MONGO_URI" "$database" bench_mongo_ceiling "$batch" "$data" "$arrays")
  [ "${ceil_docs:-0}" = "$lines" ] || { echo "the ceiling inserted ${ceil_docs:-no} documents of $lines" >&2; exit 1; }
  if [ -z "$best_load" ] || awk -v a="$load_wall" -v b="$best_load" 'BEGIN {exit !(a < b)}'; then best_load=$load_wall; fi
  if [ -z "$best_load_rss" ] || [ "$load_rss" -gt "$best_load_rss" ]; then best_load_rss=$load_rss; fi
  if [ -z "$best_ceil" ] || awk -v a="$ceil_seconds" -v b="$best_ceil" 'BEGIN {exit !(a < b)}'; then best_ceil=$ceil_seconds; fi
  printf '    run %d: load %.2f s, ceiling %.2f s\n' "$run" "$load_wall" "$ceil_seconds" >&2
done

echo
echo "file -> mongodb benchmark: $lines records of ~$size bytes, one task, $batch-record batches, best of $repeat"
echo "server: $server; $mode"
awk -v n="$lines" -v w="$best_load" -v r="$best_load_rss" -v cs="$best_ceil" 'BEGIN {
  printf "%-36s %8.2f s %9.0f rows/s\n", "insert_many (ceiling, inserts only)", cs, n / cs
  printf "%-36s %8.2f s %9.0f rows/s  %6.1f MB peak RSS\n", "rdapsync file -> mongodb (load)", w, n / w, r / 1024
  printf "ratio load / ceiling                : %.2f (target >= 0.80)\n", cs / w
}'
