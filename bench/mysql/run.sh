#!/usr/bin/env bash
# file -> mysql throughput and memory, against MariaDB's own bulk path
# (LOAD DATA LOCAL INFILE) measured in the same run on the same server.
#
#   bench/mysql/run.sh                         # 200,000 ~4 KB RDAP domains
#   RECORDS=50000 BATCH=1000 bench/mysql/run.sh
#   JOBS=1 bench/mysql/run.sh                  # build with one job (a shared machine)
#
# Data: rdapgen change envelopes cached in build/bench-data/ (the files
# bench/postgres and bench/sqlite use), plus the same changes with newer
# versions (every ts_ms prefixed with a 1) for the pass over existing rows.
# Runs, one task each:
#   load           rdapsync run: file -> mysql (upsert mode, JSON doc column) into an empty table
#   LOAD DATA      the rows the load stored, exported by the mariadb client as
#                  tab-separated text, loaded with LOAD DATA LOCAL INFILE into an
#                  identical table (CREATE TABLE ... LIKE): the ceiling. The export
#                  comes in key order, which InnoDB appends at the right edge of
#                  the index: the best case of a B-tree, not the sink's
#   LOAD DATA (source order)  the same rows in the order of the input file
#                  (ORDER BY src_offset), the order the sink receives them
#   load (method: load)  the load through the sink's LOAD DATA path
#   upsert         rdapsync run: the newer versions over the existing rows
#   load longtext  the load into a LONGTEXT doc column (doc_type: longtext)
#   discard        rdapsync run: file -> discard, the pipeline without a sink
#   sink-only      bench/sqlite/sink_only_bench: the sink's write()+flush() alone
#                  (no source), load then upsert
# Wall time, CPU time (user + system) and peak RSS of the client from
# /usr/bin/time -v, and the server's CPU time (from /proc, when the server
# runs on this machine): the CPU figures stay meaningful on a machine busy
# with other work, the wall figures do not. Target: load >= 0.8 x LOAD DATA
# of the serialized rows in the order the sink receives them (source order);
# the key-order figure is printed beside it.
# Figures only, nothing fails.
#
# The server: RDAPSYNC_MYSQL_HOST/PORT/USER/PASSWORD if set, else
# scripts/servers/mariadb.sh is started (and stopped again at the end; set
# RDAPSYNC_MYSQL_PORT if the default port is taken by another server).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-200000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
batch=${BATCH:-1000}

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
cmake --build "$build" -j"${JOBS:-2}" --target rdapsync rdapsync_source_file rdapsync_sink_mysql rdapsync_sink_discard rdapgen \
  sink_only_bench >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
sink_bench=$(find "$build" -name sink_only_bench -type f -perm -u+x | head -1)
[ -n "$rdapgen" ] || { echo "rdapgen was not built" >&2; exit 1; }

started_server=0
if [ -z "${RDAPSYNC_MYSQL_HOST:-}" ]; then
  export RDAPSYNC_SERVERS_DIR=${RDAPSYNC_SERVERS_DIR:-$build/servers}
  say "starting MariaDB (scripts/servers/mariadb.sh) in $RDAPSYNC_SERVERS_DIR"
  scripts/servers/mariadb.sh start
  eval "$(scripts/servers/mariadb.sh env)"
  started_server=1
fi
client=$(command -v mariadb || command -v mysql)
export BENCH_DB=rdapsync_bench
myq() { # SQL [extra client options...]
  local sql=$1
  shift
  "$client" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" -P "$RDAPSYNC_MYSQL_PORT" \
    -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" --default-character-set=utf8mb4 -N -B "$@" -e "$sql"
}

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
bytes=$(stat -L -c %s "$data")

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-mysql.XXXXXX")
cleanup() {
  myq "DROP DATABASE IF EXISTS $BENCH_DB" >/dev/null 2>&1 || true
  rm -rf "$work"
  if [ "$started_server" = 1 ]; then scripts/servers/mariadb.sh stop || true; fi
}
trap cleanup EXIT
myq "DROP DATABASE IF EXISTS $BENCH_DB; CREATE DATABASE $BENCH_DB CHARACTER SET utf8mb4"
export RDAPSYNC_PLUGIN_PATH=$build/plugins

connection='host: "${env:RDAPSYNC_MYSQL_HOST}", port: "${env:RDAPSYNC_MYSQL_PORT}", user: "${env:RDAPSYNC_MYSQL_USER}", password: "${env:RDAPSYNC_MYSQL_PASSWORD}", database: "${env:BENCH_DB}"'
pipeline() { # NAME INPUT SINK-YAML -> config file path
  cat >"$work/$1.yaml" <<YAML
state_dir: $work/state-$1
log: { level: warn }
pipelines:
  - name: bench
    tasks: 1
    source: { plugin: file, config: { path: "$2" } }
    sink: $3
    batch: { max_records: $batch, max_wait: 1s }
YAML
  echo "$work/$1.yaml"
}
mysql_sink() { echo "{ plugin: mysql, config: { $connection, table: $1${2:+, $2} } }"; }

# The server's CPU seconds so far (0 when it is not a process of this machine).
server_pid=$(cat "$(myq "SELECT @@pid_file")" 2>/dev/null || true)
ticks=$(getconf CLK_TCK)
server_cpu() {
  if [ -n "$server_pid" ] && [ -r "/proc/$server_pid/stat" ]; then
    awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$server_pid/stat"
  else
    echo 0
  fi
}

# measure NAME CMD...: wall time (s), peak RSS (KB), CPU time (s), server CPU time (s).
measure() {
  local name=$1 t w r c s0 s1
  shift
  t=$work/$name.time
  s0=$(server_cpu)
  /usr/bin/time -v -o "$t" "$@" >"$work/$name.log" 2>&1 || {
    cat "$work/$name.log" >&2
    echo "$name failed" >&2
    exit 1
  }
  s1=$(server_cpu)
  w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
  r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
  c=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$t")
  s1=$(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}')
  say "$name: wall ${w}s, client CPU ${c}s, server CPU ${s1}s, peak RSS ${r} KB"
  echo "$w $r $c $s1"
}

cat "$data" "$newer" >/dev/null # warm page cache for everyone
say "discard: file -> discard (the pipeline alone)"
read -r disc_wall disc_rss disc_cpu _ < <(measure discard "$build/host/rdapsync" run "$(pipeline discard "$data" "{ plugin: discard }")")
say "load: file -> mysql, empty table, JSON doc column"
read -r load_wall load_rss load_cpu load_srv < <(measure load "$build/host/rdapsync" run "$(pipeline load "$data" "$(mysql_sink bench_sink)")")
[ "$(myq "SELECT count(*) FROM bench_sink" "$BENCH_DB")" = "$lines" ] || echo "warning: load stored fewer rows than $lines" >&2

say "LOAD DATA LOCAL INFILE of the same rows into an identical table"
# Batch mode escapes tab, newline, backslash and NUL exactly as LOAD DATA's
# defaults expect them.
myq "SELECT \`key\`, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, src_offset, updated_at
     FROM bench_sink" "$BENCH_DB" --quick >"$work/rows.tsv"
myq "CREATE TABLE bench_copy LIKE bench_sink" "$BENCH_DB"
read -r copy_wall _ copy_cpu copy_srv < <(measure loaddata "$client" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" \
  -P "$RDAPSYNC_MYSQL_PORT" -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" --local-infile=1 "$BENCH_DB" \
  -e "LOAD DATA LOCAL INFILE '$work/rows.tsv' INTO TABLE bench_copy CHARACTER SET utf8mb4
      (\`key\`, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, src_offset, updated_at)")
[ "$(myq "SELECT count(*) FROM bench_copy" "$BENCH_DB")" = "$lines" ] || echo "warning: LOAD DATA stored fewer rows than $lines" >&2
rm -f "$work/rows.tsv"
myq "DROP TABLE bench_copy" "$BENCH_DB"
myq "SELECT \`key\`, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, src_offset, updated_at
     FROM bench_sink ORDER BY src_offset" "$BENCH_DB" --quick >"$work/rows.tsv"
myq "CREATE TABLE bench_copy LIKE bench_sink" "$BENCH_DB"
read -r src_wall _ src_cpu src_srv < <(measure loaddata-source-order "$client" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" \
  -P "$RDAPSYNC_MYSQL_PORT" -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" --local-infile=1 "$BENCH_DB" \
  -e "LOAD DATA LOCAL INFILE '$work/rows.tsv' INTO TABLE bench_copy CHARACTER SET utf8mb4
      (\`key\`, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, src_offset, updated_at)")
rm -f "$work/rows.tsv"
myq "DROP TABLE bench_copy" "$BENCH_DB"

say "upsert: newer versions over the existing rows"
read -r upd_wall upd_rss upd_cpu upd_srv < <(measure upsert "$build/host/rdapsync" run "$(pipeline upsert "$newer" "$(mysql_sink bench_sink)")")
stale=$(myq "SELECT count(*) FROM bench_sink WHERE event_time_ms < 10000000000000" "$BENCH_DB")
[ "$stale" = 0 ] || echo "warning: $stale rows kept their old version" >&2
myq "DROP TABLE bench_sink; DROP VIEW bench_sink_live" "$BENCH_DB"

say "load: method load (the sink's LOAD DATA path), JSON doc column"
read -r ld_wall ld_rss ld_cpu ld_srv < <(measure load-method-load "$build/host/rdapsync" run "$(pipeline loadpath "$data" "$(mysql_sink bench_ld "method: load")")")
[ "$(myq "SELECT count(*) FROM bench_ld" "$BENCH_DB")" = "$lines" ] || echo "warning: method load stored fewer rows than $lines" >&2
myq "DROP TABLE bench_ld; DROP VIEW bench_ld_live" "$BENCH_DB"

say "load: LONGTEXT doc column"
read -r lt_wall lt_rss lt_cpu lt_srv < <(measure longtext "$build/host/rdapsync" run "$(pipeline longtext "$data" "$(mysql_sink bench_lt "doc_type: longtext")")")
myq "DROP TABLE bench_lt; DROP VIEW bench_lt_live" "$BENCH_DB"

say "sink only: load, then upsert"
printf '{ %s, table: bench_only }\n' "$connection" >"$work/only.yaml"
s0=$(server_cpu)
read -r _ _ _ s_load _ _ _ s_load_cpu < <("$sink_bench" --plugin "$build/plugins/sink-mysql.so" --config "$work/only.yaml" --input "$data" --batch "$batch")
s1=$(server_cpu)
read -r _ _ _ s_upd _ _ _ s_upd_cpu < <("$sink_bench" --plugin "$build/plugins/sink-mysql.so" --config "$work/only.yaml" --input "$newer" --batch "$batch")
s2=$(server_cpu)
s_load_srv=$(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}')
s_upd_srv=$(awk -v a="$s1" -v b="$s2" 'BEGIN {print b - a}')

row() { # NAME WALL CLIENT_CPU SERVER_CPU [RSS_KB]
  awk -v n="$1" -v w="$2" -v c="$3" -v sv="$4" -v r="${5:-}" -v rec="$lines" -v cw="$copy_wall" -v cs="$copy_srv" \
    'BEGIN {printf "%-24s %7.2f s %7.0f rows/s %5.2f x LOAD DATA | CPU us/row: client %5.1f server %5.1f (%4.2f x LOAD DATA)",
            n, w, rec / w, cw / w, c / rec * 1e6, sv / rec * 1e6, (sv > 0 ? cs / sv : 0);
            if (r != "") printf " | %5.1f MB peak RSS", r / 1024; printf "\n"}'
}
echo
echo "file -> mysql benchmark: $lines records, $(awk -v b="$bytes" 'BEGIN {printf "%.0f MB", b / 1e6}') (~$size bytes each), one task, $batch-record batches"
echo "server: $(myq "SELECT CONCAT(version(), ', buffer pool ', @@innodb_buffer_pool_size DIV 1048576, ' MB, flush_log_at_trx_commit ', @@innodb_flush_log_at_trx_commit)"); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
row "LOAD DATA, key order" "$copy_wall" "$copy_cpu" "$copy_srv"
row "LOAD DATA, source order" "$src_wall" "$src_cpu" "$src_srv"
row "load (JSON column)" "$load_wall" "$load_cpu" "$load_srv" "$load_rss"
row "load, method: load" "$ld_wall" "$ld_cpu" "$ld_srv" "$ld_rss"
row "load (LONGTEXT column)" "$lt_wall" "$lt_cpu" "$lt_srv" "$lt_rss"
row "upsert (existing rows)" "$upd_wall" "$upd_cpu" "$upd_srv" "$upd_rss"
row "file -> discard" "$disc_wall" "$disc_cpu" 0 "$disc_rss"
row "sink-only load" "$s_load" "$s_load_cpu" "$s_load_srv"
row "sink-only upsert" "$s_upd" "$s_upd_cpu" "$s_upd_srv"
awk -v cw="$copy_wall" -v cs="$copy_srv" -v l="$load_wall" -v ls="$load_srv" -v s="$s_load" -v ss="$s_load_srv" \
    -v r1="$load_rss" -v r2="$upd_rss" -v sw="$src_wall" -v sc="$src_srv" 'BEGIN {
  printf "ratio load / LOAD DATA, source order: %.2f wall, %.2f server CPU (target >= 0.80)\n", sw / l, (ls > 0 ? sc / ls : 0)
  printf "ratio load / LOAD DATA, key order   : %.2f wall, %.2f server CPU\n", cw / l, (ls > 0 ? cs / ls : 0)
  printf "ratio sink-only load / LOAD DATA : %.2f wall, %.2f server CPU\n", cw / s, (ss > 0 ? cs / ss : 0)
  printf "peak RSS of rdapsync             : %.1f MB\n", (r1 > r2 ? r1 : r2) / 1024
}'
