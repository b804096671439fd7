#!/usr/bin/env bash
# normalize + redact throughput and memory, against a ceiling measured in
# the same run on the same file.
#
#   bench/transforms/run.sh                  # 200,000 ~4 KB RDAP domains
#   RECORDS=50000 REPEAT=3 bench/transforms/run.sh
#
# Runs, one task each, on a warm page cache:
#   ceiling            bench/file/json_ceiling: the host's JSON parse + dump of each line, nothing else
#   file->discard      rdapsync: file source -> discard sink (the pipeline without transforms)
#   normalize          rdapsync: file -> normalize -> discard
#   normalize+redact   rdapsync: file -> normalize -> redact (POLICY) -> discard
#   ... serial         the same with batch.transform_thread: false (the task
#                      thread polls, parses and transforms alone)
# Wall time, CPU time (user + system) and peak RSS from /usr/bin/time -v.
# The default (batch.transform_thread: auto) runs the transforms beside the
# task thread on a machine with a CPU to spare, so wall and CPU time differ;
# the serial row is the one-CPU figure. Targets: normalize+redact >= 0.6 x
# ceiling, peak RSS <= 32 MB. Figures only: nothing here passes or fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-200000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
repeat=${REPEAT:-1}
batch=${BATCH:-1000}
policy=${POLICY:-gdpr-enterprise}

say() { printf '==> %s\n' "$*" >&2; }

if ! [ -x /usr/bin/time ]; then
  say "installing Debian's time package (for /usr/bin/time -v)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq time >/dev/null
fi

say "build (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_sink_discard \
  rdapsync_transform_normalize rdapsync_transform_redact rdapgen json_ceiling >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
ceiling=$(find "$build" -name json_ceiling -type f -perm -u+x | head -1)
[ -n "$rdapgen" ] || { echo "rdapgen was not built" >&2; exit 1; }
[ -n "$ceiling" ] || { echo "bench/file/json_ceiling was not built" >&2; exit 1; }

mkdir -p "$build/bench-data"
data=$build/bench-data/domains-$records-$size-$seed.jsonl
if [ ! -s "$data" ]; then
  say "generating $records records of ~$size bytes into $data"
  "$rdapgen" --count "$records" --seed "$seed" --size "$size" -o "$data.tmp"
  mv "$data.tmp" "$data"
fi
bytes=$(stat -L -c %s "$data")
lines=$(wc -l <"$data")

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-transforms.XXXXXX")
trap 'rm -rf "$work"' EXIT
export RDAPSYNC_PLUGIN_PATH=$build/plugins

pipeline() { # NAME TRANSFORMS-YAML [TRANSFORM_THREAD] -> config file path
  cat >"$work/$1.yaml" <<YAML
state_dir: $work/state-$1
log: { level: warn }
pipelines:
  - name: bench
    tasks: 1
    source: { plugin: file, config: { path: "$data" } }
    transforms: $2
    sink: { plugin: discard }
    batch: { max_records: $batch, max_wait: 1s, transform_thread: ${3:-auto} }
    errors: { tolerance: all, dead_letter: { plugin: discard, protect: none } }
YAML
  echo "$work/$1.yaml"
}
plain_cfg=$(pipeline plain "[]")
normalize_cfg=$(pipeline normalize "[ { plugin: normalize } ]")
chain="[ { plugin: normalize }, { plugin: redact, config: { policy: $policy, policy_dir: \"$repo/config/policies\" } } ]"
both_cfg=$(pipeline both "$chain")
serial_cfg=$(pipeline serial "$chain" false)

# measure NAME CMD...: best wall time (s), its peak RSS (KB) and CPU time (s) over REPEAT runs.
measure() {
  local name=$1 best_wall="" best_rss="" best_cpu="" i t w r u
  shift
  for i in $(seq 1 "$repeat"); do
    rm -rf "$work/state-$name"
    cat "$data" >/dev/null # same warm page cache for everyone
    t=$work/$name.time
    /usr/bin/time -v -o "$t" "$@" >"$work/$name.log" 2>&1 || {
      cat "$work/$name.log" >&2
      echo "$name failed" >&2
      exit 1
    }
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
    u=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$t")
    if [ -z "$best_wall" ] || awk -v a="$w" -v b="$best_wall" 'BEGIN {exit !(a < b)}'; then
      best_wall=$w
      best_rss=$r
      best_cpu=$u
    fi
  done
  echo "$best_wall $best_rss $best_cpu"
}

say "ceiling: $ceiling"
read -r ceil_wall ceil_rss ceil_cpu < <(measure ceiling "$ceiling" "$data")
say "file -> discard"
read -r plain_wall plain_rss plain_cpu < <(measure plain "$build/host/rdapsync" run "$plain_cfg")
say "file -> normalize -> discard"
read -r norm_wall norm_rss norm_cpu < <(measure normalize "$build/host/rdapsync" run "$normalize_cfg")
say "file -> normalize -> redact ($policy) -> discard"
read -r both_wall both_rss both_cpu < <(measure both "$build/host/rdapsync" run "$both_cfg")
say "file -> normalize -> redact ($policy) -> discard, batch.transform_thread: false"
read -r serial_wall serial_rss serial_cpu < <(measure serial "$build/host/rdapsync" run "$serial_cfg")
grep -q "level=error" "$work/both.log" && { cat "$work/both.log" >&2; echo "the pipeline logged errors" >&2; exit 1; }

row() { # NAME WALL RSS_KB CPU
  awk -v n="$1" -v w="$2" -v r="$3" -v c="$4" -v rec="$lines" -v b="$bytes" \
    'BEGIN {printf "%-24s %7.2f s %9.0f rec/s %7.1f MB/s %7.2f s CPU %7.1f MB peak RSS\n", n, w, rec / w, b / w / 1e6, c, r / 1024}'
}
echo
echo "transforms benchmark: $lines records, $(awk -v b="$bytes" 'BEGIN {printf "%.1f MB", b / 1e6}'), ~$size bytes each; one task, $batch-record batches, policy $policy, best of $repeat"
row "ceiling" "$ceil_wall" "$ceil_rss" "$ceil_cpu"
row "file->discard" "$plain_wall" "$plain_rss" "$plain_cpu"
row "normalize" "$norm_wall" "$norm_rss" "$norm_cpu"
row "normalize+redact" "$both_wall" "$both_rss" "$both_cpu"
row "normalize+redact serial" "$serial_wall" "$serial_rss" "$serial_cpu"
awk -v c="$ceil_wall" -v p="$plain_wall" -v n="$norm_wall" -v b="$both_wall" -v r="$both_rss" -v rec="$lines" \
  -v s="$serial_wall" -v cc="$ceil_cpu" -v bc="$both_cpu" -v pc="$plain_cpu" -v nc="$norm_cpu" 'BEGIN {
  printf "ratio normalize+redact / ceiling : %.2f (target >= 0.60)\n", c / b
  printf "ratio ... serial / ceiling       : %.2f (one CPU)\n", c / s
  printf "ratio of CPU time, ceiling / n+r : %.2f\n", cc / bc
  printf "ratio normalize / ceiling        : %.2f\n", c / n
  printf "ratio file->discard / ceiling    : %.2f (the pipeline alone)\n", c / p
  printf "transform CPU per record         : normalize %.1f us, redact %.1f us (threaded runs: handoffs included)\n", (nc - pc) / rec * 1e6, (bc - nc) / rec * 1e6
  printf "peak RSS normalize+redact        : %.1f MB (target <= 32 MB)\n", r / 1024
}'
