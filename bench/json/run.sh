#!/usr/bin/env bash
# The record model's CPU per record: lazy documents (simdjson validation,
# the tree built only when read, the validated text handed to the sink)
# against the tree parser (yajl, every document built and dumped), both in
# the same binary and the same run (RDAPSYNC_JSON_PARSER=tree is the
# baseline).
#
#   bench/json/run.sh                    # 50,000 ~4 KB RDAP domains
#   RECORDS=20000 bench/json/run.sh
#
# Rows, each for tree then lazy:
#   parse+dump       bench/file/json_ceiling: parse, dump, free (a document
#                    nothing reads: file -> discard, or a sink writing JSON)
#   parse+read+dump  the same reading the "handle" member first (a source
#                    taking its key: that member alone gets built)
#   parse+build+dump the same building the whole tree first (a transform
#                    that reads the document)
#   file->discard    rdapsync run: file source -> discard sink
#   file->file       rdapsync run: file source -> file sink (envelopes)
# CPU is user + system time of the process over the records (µs/record);
# the pipelines' peak RSS comes from /usr/bin/time -v. With valgrind
# present, the json_ceiling rows are also counted in instructions (callgrind,
# CALLGRIND_RECORDS records), which a loaded machine does not disturb.
# Targets: file -> discard <= 8 µs/record, peak RSS <= 32 MB.
# Figures only: nothing here passes or fails on them.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-50000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
batch=${BATCH:-1000}
cg_records=${CALLGRIND_RECORDS:-2000}

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

mkdir -p "$build/bench-data"
data=$build/bench-data/domains-$records-$size-$seed.jsonl
if [ ! -s "$data" ]; then
  say "generating $records records of ~$size bytes into $data"
  "$rdapgen" --count "$records" --seed "$seed" --size "$size" -o "$data.tmp"
  mv "$data.tmp" "$data"
fi
lines=$(wc -l <"$data")

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-json.XXXXXX")
trap 'rm -rf "$work"' EXIT
export RDAPSYNC_PLUGIN_PATH=$build/plugins

pipeline() { # NAME SINK-YAML -> config file path
  cat >"$work/$1.yaml" <<YAML
state_dir: $work/state-$1
log: { level: warn }
pipelines:
  - name: bench
    tasks: 1
    source: { plugin: file, config: { path: "$data" } }
    sink: $2
    batch: { max_records: $batch, max_wait: 1s }
YAML
  echo "$work/$1.yaml"
}
discard_cfg=$(pipeline discard "{ plugin: discard }")
file_cfg=$(pipeline file "{ plugin: file, config: { path: \"$work/out/out.jsonl\" } }")

# timed PARSER NAME CMD... -> "cpu_seconds wall_seconds peak_rss_kb"
timed() {
  local parser=$1 name=$2 t
  shift 2
  rm -rf "$work"/state-* "$work/out" # every run reads the whole file
  cat "$data" >/dev/null # the same warm page cache for everyone
  t=$work/$name.time
  env RDAPSYNC_JSON_PARSER="$parser" /usr/bin/time -v -o "$t" "$@" >"$work/$name.log" 2>&1 || {
    cat "$work/$name.log" >&2
    echo "$name failed" >&2
    exit 1
  }
  awk -F': ' '/User time/ {u = $2} /System time/ {s = $2}
    /Elapsed \(wall clock\)/ {n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i]}
    /Maximum resident set size/ {r = $2} END {print u + s, w, r}' "$t"
}

declare -A cpu wall rss
run_row() { # ROW CMD...
  local row=$1 parser c w r
  shift
  for parser in tree lazy; do
    say "$row ($parser)"
    read -r c w r < <(timed "$parser" "${row//[^a-z]/_}-$parser" "$@")
    cpu[$row/$parser]=$c wall[$row/$parser]=$w rss[$row/$parser]=$r
  done
}
run_row "parse+dump" "$ceiling" "$data"
run_row "parse+read+dump" "$ceiling" --read "$data"
run_row "parse+build+dump" "$ceiling" --build "$data"
run_row "file->discard" "$build/host/rdapsync" run "$discard_cfg"
run_row "file->file" "$build/host/rdapsync" run "$file_cfg"

declare -A ir
if command -v valgrind >/dev/null; then
  head -n "$cg_records" "$data" >"$work/cg.jsonl"
  for mode in "parse+dump" "parse+read+dump" "parse+build+dump"; do
    flag=""
    [ "$mode" = "parse+read+dump" ] && flag=--read
    [ "$mode" = "parse+build+dump" ] && flag=--build
    for parser in tree lazy; do
      say "callgrind $mode ($parser)"
      ir[$mode/$parser]=$(RDAPSYNC_JSON_PARSER=$parser valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$ceiling" $flag "$work/cg.jsonl" 2>&1 | awk '/Collected/ {gsub(",", "", $4); print $4}')
    done
  done
fi

echo
echo "record model benchmark: $lines records of ~$size bytes, one task, $batch-record batches ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-16s %14s %14s %8s %10s %10s %12s %12s\n' row "tree µs/rec" "lazy µs/rec" ratio "tree s" "lazy s" "tree RSS MB" "lazy RSS MB"
for row in "parse+dump" "parse+read+dump" "parse+build+dump" "file->discard" "file->file"; do
  awk -v n="$row" -v ct="${cpu[$row/tree]}" -v cl="${cpu[$row/lazy]}" -v wt="${wall[$row/tree]}" \
    -v wl="${wall[$row/lazy]}" -v rt="${rss[$row/tree]}" -v rl="${rss[$row/lazy]}" -v rec="$lines" \
    'BEGIN {printf "%-16s %14.2f %14.2f %7.2fx %10.2f %10.2f %12.1f %12.1f\n", n, ct / rec * 1e6, cl / rec * 1e6, ct / cl, wt, wl, rt / 1024, rl / 1024}'
done
if [ "${#ir[@]}" -gt 0 ]; then
  echo "instructions per record (callgrind, $cg_records records; simdjson runs its AVX2 kernel under valgrind):"
  for mode in "parse+dump" "parse+read+dump" "parse+build+dump"; do
    awk -v n="$mode" -v t="${ir[$mode/tree]}" -v l="${ir[$mode/lazy]}" -v rec="$cg_records" \
      'BEGIN {printf "%-16s %14.0f %14.0f %7.2fx\n", n, t / rec, l / rec, t / l}'
  done
fi
awk -v c="${cpu[file->discard/lazy]}" -v r="${rss[file->discard/lazy]}" -v rec="$lines" 'BEGIN {
  printf "file->discard CPU per record: %.2f µs (target <= 8)\n", c / rec * 1e6
  printf "file->discard peak RSS      : %.1f MB (target <= 32)\n", r / 1024
}'
