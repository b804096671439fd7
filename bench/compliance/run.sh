#!/usr/bin/env bash
# Cost per record of the suppression step (compliance.suppression): the same
# pipeline, file -> normalize -> discard, measured in the same run on the
# same file:
#   baseline      no compliance block
#   empty list    compliance.suppression with an empty list (the step is skipped)
#   one subject   a list with one subject that no record names (every string
#                 of every record is checked: the worst case of a clean batch)
#
#   bench/compliance/run.sh                 # 20,000 generated RDAP records
#   RECORDS=50000 REPEAT=3 bench/compliance/run.sh
# Prints wall seconds (median of REPEAT), records/s and the ratio to the
# baseline. Figures only: nothing here passes or fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-20000}
repeat=${REPEAT:-3}
bin=$build/host/rdapsync
gen=$build/tools/rdapgen/rdapgen
[[ -x $bin && -x $gen ]] || { echo "build rdapsync and rdapgen first ($build)" >&2; exit 2; }
export RDAPSYNC_PLUGIN_PATH=${RDAPSYNC_PLUGIN_PATH:-$build/plugins} RDAPSYNC_PROGRESS=off
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/in"
"$gen" --count "$records" --seed 17 -o "$work/in/gen.jsonl"
head -c 32 /dev/urandom | base64 >"$work/key"
: >"$work/empty.list"
printf '%064d\n' 1 >"$work/one.list"

config() { # NAME LIST
  {
    echo "state_dir: $work/state-$1"
    [[ -z $2 ]] || echo "compliance: { suppression: $work/$2, key: \"\${file:$work/key}\", policy_dir: \"$repo/config/policies\" }"
    cat <<YAML
pipelines:
  - name: bench
    source: { plugin: file, config: { path: "$work/in" } }
    transforms: [ { plugin: normalize, config: { error_value: clear } } ]
    sink: { plugin: discard }
    batch: { transform_thread: false }
YAML
  } >"$work/$1.yaml"
}
config baseline ""
config empty empty.list
config one one.list

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
measure() { # NAME: median wall seconds
  for _ in $(seq "$repeat"); do
    rm -rf "$work/state-$1"
    local start end
    start=$(date +%s.%N)
    "$bin" run "$work/$1.yaml" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc
  done | median
}
base=$(measure baseline)
printf '%-12s %8s s %10s rec/s %6s\n' baseline "$base" "$(echo "$records / $base" | bc)" 1.00
for name in empty one; do
  t=$(measure "$name")
  printf '%-12s %8s s %10s rec/s %6s\n' "$name" "$t" "$(echo "$records / $t" | bc)" "$(echo "scale=2; $t / $base" | bc)"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
