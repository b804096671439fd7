#!/usr/bin/env bash
# file -> sqlite throughput and memory, against SQLite's own bulk path
# measured in the same run on the same disk.
#
#   bench/sqlite/run.sh                        # 200,000 ~4 KB RDAP domains
#   RECORDS=50000 BATCH=1000 bench/sqlite/run.sh
#
# Data: rdapgen change envelopes cached in build/bench-data/ (the files
# bench/postgres uses), plus the same changes with newer versions (every
# ts_ms prefixed with a 1) for the pass over existing rows. Runs, one task:
#   ceiling      bench/sqlite/sqlite_ceiling: the rows the load stored, read
#                into memory, then one transaction of a prepared INSERT
#                stepped per row into an identical table (WAL, synchronous=FULL)
#   load         rdapsync run: file -> sqlite (upsert mode, synchronous full) into an empty table
#   load normal  the same with synchronous: normal
#   upsert       rdapsync run: the newer versions over the existing rows
#   discard      rdapsync run: file -> discard, the pipeline without a sink
#   sink-only    bench/sqlite/sink_only_bench: the sink's write()+flush() alone
#                (no source), load then upsert
# Wall time, CPU time (user + system) and peak RSS from /usr/bin/time -v;
# the CPU figures stay meaningful on a machine busy with other work, the
# wall figures do not. Target: load >= 0.8 x the ceiling. Figures only,
# nothing fails.
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
cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_sink_sqlite rdapsync_sink_discard rdapgen \
  sink_only_bench sqlite_ceiling >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
sink_bench=$(find "$build" -name sink_only_bench -type f -perm -u+x | head -1)
ceiling=$(find "$build" -name sqlite_ceiling -type f -perm -u+x | head -1)
[ -n "$rdapgen" ] || { echo "rdapgen was not built" >&2; exit 1; }

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

# The databases go next to the build (a real disk), not to a tmpfs.
work=$(mktemp -d "$build/bench-data/sqlite.XXXXXX")
trap 'rm -rf "$work"' EXIT
export RDAPSYNC_PLUGIN_PATH=$build/plugins

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
sqlite_sink() { echo "{ plugin: sqlite, config: { path: \"$work/$1.db\", table: rdap_records, synchronous: $2 } }"; }

# measure NAME CMD...: wall time (s), peak RSS (KB), CPU time (s).
measure() {
  local name=$1 t w r c
  shift
  t=$work/$name.time
  /usr/bin/time -v -o "$t" "$@" >"$work/$name.log" 2>&1 || {
    cat "$work/$name.log" >&2
    echo "$name failed" >&2
    exit 1
  }
  w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
  r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
  c=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$t")
  say "$name: wall ${w}s, CPU ${c}s, peak RSS ${r} KB"
  echo "$w $r $c"
}
count() { python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM rdap_records').fetchone()[0])" "$1"; }

cat "$data" "$newer" >/dev/null # warm page cache for everyone
say "discard: file -> discard (the pipeline alone)"
read -r disc_wall disc_rss disc_cpu < <(measure discard "$build/host/rdapsync" run "$(pipeline discard "$data" "{ plugin: discard }")")
say "load: file -> sqlite, empty table, synchronous full"
read -r load_wall load_rss load_cpu < <(measure load "$build/host/rdapsync" run "$(pipeline load "$data" "$(sqlite_sink load full)")")
[ "$(count "$work/load.db")" = "$lines" ] || echo "warning: load stored fewer rows than $lines" >&2
say "ceiling: prepared INSERT loop of the same rows, one transaction"
read -r _ _ _ ceil_wall _ ceil_cpu < <("$ceiling" "$work/load.db" rdap_records "$work/ceiling.db" full)
rm -f "$work"/ceiling.db*
say "upsert: newer versions over the existing rows"
read -r upd_wall upd_rss upd_cpu < <(measure upsert "$build/host/rdapsync" run "$(pipeline upsert "$newer" "$(sqlite_sink load full)")")
stale=$(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM rdap_records WHERE event_time_ms < 10000000000000').fetchone()[0])" "$work/load.db")
[ "$stale" = 0 ] || echo "warning: $stale rows kept their old version" >&2
rm -f "$work"/load.db*
say "load: synchronous normal"
read -r norm_wall norm_rss norm_cpu < <(measure normal "$build/host/rdapsync" run "$(pipeline normal "$data" "$(sqlite_sink normal normal)")")
rm -f "$work"/normal.db*
say "sink only: load, then upsert"
printf 'path: "%s/only.db"\ntable: rdap_records\n' "$work" >"$work/only.yaml"
read -r _ _ _ s_load _ _ _ s_load_cpu < <("$sink_bench" --plugin "$build/plugins/sink-sqlite.so" --config "$work/only.yaml" --input "$data" --batch "$batch")
read -r _ _ _ s_upd _ _ _ s_upd_cpu < <("$sink_bench" --plugin "$build/plugins/sink-sqlite.so" --config "$work/only.yaml" --input "$newer" --batch "$batch")

row() { # NAME WALL CPU [RSS_KB]
  awk -v n="$1" -v w="$2" -v c="$3" -v r="${4:-}" -v rec="$lines" -v cw="$ceil_wall" -v cc="$ceil_cpu" \
    'BEGIN {printf "%-26s %8.2f s %8.0f rows/s %5.2f x ceiling | CPU %6.1f us/row %5.2f x ceiling", n, w, rec / w, cw / w,
            c / rec * 1e6, cc / c;
            if (r != "") printf " | %6.1f MB peak RSS", r / 1024; printf "\n"}'
}
echo
echo "file -> sqlite benchmark: $lines records, $(awk -v b="$bytes" 'BEGIN {printf "%.0f MB", b / 1e6}') (~$size bytes each), one task, $batch-record batches"
echo "SQLite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)'), WAL; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
row "ceiling (insert loop)" "$ceil_wall" "$ceil_cpu"
row "load, synchronous full" "$load_wall" "$load_cpu" "$load_rss"
row "load, synchronous normal" "$norm_wall" "$norm_cpu" "$norm_rss"
row "upsert (existing rows)" "$upd_wall" "$upd_cpu" "$upd_rss"
row "file -> discard" "$disc_wall" "$disc_cpu" "$disc_rss"
row "sink-only load" "$s_load" "$s_load_cpu"
row "sink-only upsert" "$s_upd" "$s_upd_cpu"
awk -v cw="$ceil_wall" -v cc="$ceil_cpu" -v l="$load_wall" -v lc="$load_cpu" -v s="$s_load" -v sc="$s_load_cpu" \
    -v r1="$load_rss" -v r2="$upd_rss" 'BEGIN {
  printf "ratio load / ceiling           : %.2f wall, %.2f CPU (target >= 0.80)\n", cw / l, cc / lc
  printf "ratio sink-only load / ceiling : %.2f wall, %.2f CPU\n", cw / s, cc / sc
  printf "peak RSS of rdapsync           : %.1f MB\n", (r1 > r2 ? r1 : r2) / 1024
}'
