#!/usr/bin/env bash
# File pipeline throughput and memory, against a ceiling measured in the
# same run.
#
#   bench/file/run.sh                 # 200,000 ~4 KB RDAP domains
#   RECORDS=50000 REPEAT=3 bench/file/run.sh
#
# Data: rdapgen output cached in build/bench-data/. Runs, one task and
# 1,000-record batches each:
#   ceiling        bench/file/json_ceiling: jansson parse + dump of each line, nothing else
#   ceiling/held   the same, keeping each batch's documents alive until the batch
#                  is done (what any batched pipeline pays for its live set)
#   file->discard  rdapsync, file source -> discard sink
#   file->file     rdapsync, file source -> file sink (envelopes, fsync at every flush)
# Wall time and peak RSS come from /usr/bin/time -v (Debian's `time`,
# installed when missing). Targets: file->discard >= 0.8 x ceiling, peak
# RSS <= 32 MB. Figures only: nothing here passes or fails on them.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-200000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
repeat=${REPEAT:-1}
batch=${BATCH:-1000}

say() { printf '==> %s\n' "$*" >&2; }

if ! [ -x /usr/bin/time ]; then
  say "installing Debian's time package (for /usr/bin/time -v)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq time >/dev/null
fi

say "build (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_sink_file rdapsync_sink_discard \
  rdapgen json_ceiling >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
ceiling=$(find "$build" -name json_ceiling -type f -perm -u+x | head -1)
[ -n "$rdapgen" ] || { echo "rdapgen was not built" >&2; exit 1; }

mkdir -p "$build/bench-data"
data=$build/bench-data/domains-$records-$size-$seed.jsonl
if [ ! -s "$data" ]; then
  say "generating $records records of ~$size bytes into $data"
  "$rdapgen" --count "$records" --seed "$seed" --size "$size" -o "$data.tmp"
  mv "$data.tmp" "$data"
fi
bytes=$(stat -L -c %s "$data")
lines=$(wc -l <"$data")

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-file.XXXXXX")
out_dir=$build/bench-data/out
trap 'rm -rf "$work" "$out_dir"' EXIT
export RDAPSYNC_PLUGIN_PATH=$build/plugins

pipeline() { # NAME SINK-YAML [OVERLAP] -> config file path
  cat >"$work/$1.yaml" <<YAML
state_dir: $work/state-$1
log: { level: warn }
pipelines:
  - name: bench
    tasks: 1
    source: { plugin: file, config: { path: "$data" } }
    sink: $2
    batch: { max_records: $batch, max_wait: 1s${3:+, overlap: $3} }
YAML
  echo "$work/$1.yaml"
}
discard_cfg=$(pipeline discard "{ plugin: discard }")
serial_cfg=$(pipeline serial "{ plugin: discard }" true)
file_cfg=$(pipeline file "{ plugin: file, config: { path: \"$out_dir/out.jsonl\" } }")

# measure NAME CMD...: best wall time (s) and its peak RSS (KB) over REPEAT runs.
measure() {
  local name=$1 best_wall="" best_rss="" i t w r
  shift
  for i in $(seq 1 "$repeat"); do
    rm -rf "$work/state-$name" "$out_dir"
    cat "$data" >/dev/null # same warm page cache for everyone
    t=$work/$name.time
    /usr/bin/time -v -o "$t" "$@" >"$work/$name.log" 2>&1 || {
      cat "$work/$name.log" >&2
      echo "$name failed" >&2
      exit 1
    }
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
    if [ -z "$best_wall" ] || awk -v a="$w" -v b="$best_wall" 'BEGIN {exit !(a < b)}'; then
      best_wall=$w
      best_rss=$r
    fi
  done
  echo "$best_wall $best_rss"
}

say "ceiling: $ceiling"
read -r ceil_wall ceil_rss < <(measure ceiling "$ceiling" "$data")
read -r held_wall held_rss < <(measure held "$ceiling" --hold "$batch" "$data")
say "file -> discard"
read -r disc_wall disc_rss < <(measure discard "$build/host/rdapsync" run "$discard_cfg")
say "file -> discard, batch.overlap: true"
read -r ser_wall ser_rss < <(measure serial "$build/host/rdapsync" run "$serial_cfg")
say "file -> file"
read -r file_wall file_rss < <(measure file "$build/host/rdapsync" run "$file_cfg")
out_lines=$( [ -f "$out_dir/out.jsonl" ] && wc -l <"$out_dir/out.jsonl" || echo 0)
[ "$out_lines" -eq "$lines" ] || echo "warning: file -> file wrote $out_lines lines for $lines" >&2

row() { # NAME WALL RSS_KB
  awk -v n="$1" -v w="$2" -v r="$3" -v rec="$lines" -v b="$bytes" \
    'BEGIN {printf "%-15s %9.2f s %12.0f rec/s %9.1f MB/s %9.1f MB peak RSS\n", n, w, rec / w, b / w / 1e6, r / 1024}'
}
echo
echo "file pipeline benchmark: $lines records, $(awk -v b="$bytes" 'BEGIN {printf "%.1f MB", b / 1e6}'), ~$size bytes each; one task, $batch-record batches, best of $repeat"
row "ceiling" "$ceil_wall" "$ceil_rss"
row "ceiling/held" "$held_wall" "$held_rss"
row "file->discard" "$disc_wall" "$disc_rss"
row "discard/overlap" "$ser_wall" "$ser_rss"
row "file->file" "$file_wall" "$file_rss"
awk -v c="$ceil_wall" -v h="$held_wall" -v d="$disc_wall" -v f="$file_wall" -v r="$disc_rss" -v rf="$file_rss" \
  -v sw="$ser_wall" -v sr="$ser_rss" 'BEGIN {
  printf "ratio file->discard / ceiling : %.2f (target >= 0.80)\n", c / d
  printf "ratio discard/overlap / ceiling: %.2f (batch.overlap: true)\n", c / sw
  printf "ratio file->file / ceiling    : %.2f\n", c / f
  printf "ratio file->discard / held    : %.2f (the pipeline against a batch-shaped ceiling)\n", h / d
  printf "ratio file->file / held       : %.2f\n", h / f
  printf "peak RSS file->discard        : %.1f MB (target <= 32 MB; default batch.overlap: auto)\n", r / 1024
  printf "peak RSS discard/overlap      : %.1f MB (two batches alive)\n", sr / 1024
  printf "peak RSS file->file           : %.1f MB (target <= 32 MB)\n", rf / 1024
}'
