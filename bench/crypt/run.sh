#!/usr/bin/env bash
# Cost per record of the encrypt and decrypt transforms: the same pipeline
# with and without them, measured in the same run on the same file.
#
#   bench/crypt/run.sh                       # 100,000 ~4 KB RDAP domains
#   RECORDS=20000 REPEAT=3 bench/crypt/run.sh
#
# Runs (one task, batch.transform_thread: false so CPU time is one
# thread's, warm page cache):
#   baseline          file -> normalize -> discard
#   +encrypt          file -> normalize -> encrypt (whole document) -> discard
#   +encrypt zstd     the same with compress: zstd
#   +encrypt paths    encrypt only $.entities[*].vcardArray
#   decrypt           file (the +encrypt output) -> decrypt -> discard, against
#   plain read        file (the plain output) -> discard
# Prints wall and CPU seconds, records/s, the extra microseconds of CPU
# per record against the baseline, and output bytes per record.
# Figures only: nothing here passes or fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-100000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
repeat=${REPEAT:-1}

say() { printf '==> %s\n' "$*" >&2; }

if ! [ -x /usr/bin/time ]; then
  say "installing Debian's time package (for /usr/bin/time -v)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq time >/dev/null
fi

say "build (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_sink_discard rdapsync_sink_file \
  rdapsync_transform_normalize rdapsync_transform_encrypt rdapsync_transform_decrypt rdapgen >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
[ -n "$rdapgen" ] || { echo "rdapgen was not built" >&2; exit 1; }

mkdir -p "$build/bench-data"
data=$build/bench-data/domains-$records-$size-$seed.jsonl
if [ ! -s "$data" ]; then
  say "generating $records records of ~$size bytes into $data"
  "$rdapgen" --count "$records" --seed "$seed" --size "$size" -o "$data.tmp"
  mv "$data.tmp" "$data"
fi
lines=$(wc -l <"$data")

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-crypt.XXXXXX")
trap 'rm -rf "$work"' EXIT
export RDAPSYNC_PLUGIN_PATH=$build/plugins
echo "k1:$(openssl rand -base64 32)" >"$work/keyring"

pipeline() { # NAME INPUT TRANSFORMS-YAML SINK-YAML -> config file path
  cat >"$work/$1.yaml" <<YAML
state_dir: $work/state-$1
log: { level: warn }
pipelines:
  - name: bench
    source: { plugin: file, config: { path: "$2" } }
    transforms: $3
    sink: $4
    batch: { max_records: 1000, max_wait: 1s, transform_thread: false }
YAML
  echo "$work/$1.yaml"
}
discard="{ plugin: discard }"
ring='keyring: "${file:'"$work"'/keyring}"'
base_cfg=$(pipeline base "$data" "[ { plugin: normalize } ]" "$discard")
enc_cfg=$(pipeline enc "$data" "[ { plugin: normalize }, { plugin: encrypt, config: { $ring } } ]" "$discard")
zstd_cfg=$(pipeline zstd "$data" "[ { plugin: normalize }, { plugin: encrypt, config: { $ring, compress: zstd } } ]" "$discard")
paths_cfg=$(pipeline paths "$data" "[ { plugin: normalize }, { plugin: encrypt, config: { $ring, paths: [\"\$.entities[*].vcardArray\"] } } ]" "$discard")
# Inputs for the decrypt row: the raw documents sealed whole, and the same plain, as file sink envelopes.
seal_cfg=$(pipeline seal "$data" "[ { plugin: encrypt, config: { $ring } } ]" "{ plugin: file, config: { path: \"$work/sealed.jsonl\", format: envelope, fsync: false } }")
plainout_cfg=$(pipeline plainout "$data" "[]" "{ plugin: file, config: { path: \"$work/plain.jsonl\", format: envelope, fsync: false } }")
dec_cfg=$(pipeline dec "$work/sealed.jsonl" "[ { plugin: decrypt, config: { $ring } } ]" "$discard")
read_cfg=$(pipeline read "$work/plain.jsonl" "[]" "$discard")

# measure NAME CONFIG: best wall (s) and its CPU time (s) over REPEAT runs.
measure() {
  local name=$1 cfg=$2 best_wall="" best_cpu="" i t w u
  for i in $(seq 1 "$repeat"); do
    rm -rf "$work/state-$name"
    t=$work/$name.time
    /usr/bin/time -v -o "$t" "$build/host/rdapsync" run "$cfg" >"$work/$name.log" 2>&1 || {
      cat "$work/$name.log" >&2
      echo "$name failed" >&2
      exit 1
    }
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
    u=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$t")
    if [ -z "$best_wall" ] || awk -v a="$w" -v b="$best_wall" 'BEGIN {exit !(a < b)}'; then
      best_wall=$w
      best_cpu=$u
    fi
  done
  echo "$best_wall $best_cpu"
}

say "sealing and copying the input for the decrypt rows"
measure seal "$seal_cfg" >/dev/null
measure plainout "$plainout_cfg" >/dev/null
cat "$data" "$work/sealed.jsonl" "$work/plain.jsonl" >/dev/null

row() { # LABEL WALL CPU BASE_CPU
  awk -v l="$1" -v w="$2" -v c="$3" -v b="$4" -v n="$lines" 'BEGIN {
    printf "%-34s %8.2f %8.2f %10.0f %12.1f\n", l, w, c, n / w, (c - b) * 1e6 / n }'
}
say "baseline: file -> normalize -> discard"
read -r base_wall base_cpu < <(measure base "$base_cfg")
say "+ encrypt"
read -r enc_wall enc_cpu < <(measure enc "$enc_cfg")
say "+ encrypt, zstd"
read -r zstd_wall zstd_cpu < <(measure zstd "$zstd_cfg")
say "+ encrypt, paths"
read -r paths_wall paths_cpu < <(measure paths "$paths_cfg")
say "plain read: file -> discard"
read -r read_wall read_cpu < <(measure read "$read_cfg")
say "decrypt: file -> decrypt -> discard"
read -r dec_wall dec_cpu < <(measure dec "$dec_cfg")

echo
echo "records: $lines of ~$size bytes (best of $repeat), one task, transforms on the task thread"
printf "%-34s %8s %8s %10s %12s\n" "pipeline" "wall s" "cpu s" "records/s" "+cpu us/rec"
row "file -> normalize -> discard" "$base_wall" "$base_cpu" "$base_cpu"
row "  + encrypt (whole)" "$enc_wall" "$enc_cpu" "$base_cpu"
row "  + encrypt (whole, zstd)" "$zstd_wall" "$zstd_cpu" "$base_cpu"
row "  + encrypt (entities vcardArray)" "$paths_wall" "$paths_cpu" "$base_cpu"
row "file (plain envelopes) -> discard" "$read_wall" "$read_cpu" "$read_cpu"
row "file (sealed) -> decrypt -> discard" "$dec_wall" "$dec_cpu" "$read_cpu"
awk -v a="$base_wall" -v b="$enc_wall" -v c="$zstd_wall" -v d="$read_wall" -v e="$dec_wall" 'BEGIN {
  printf "\nthroughput ratios: encrypt %.2f x baseline, encrypt+zstd %.2f x, decrypt %.2f x plain read\n", a / b, a / c, d / e }'
awk -v p="$(stat -c %s "$work/plain.jsonl")" -v s="$(stat -c %s "$work/sealed.jsonl")" -v n="$lines" 'BEGIN {
  printf "output bytes per record: plain %.0f, sealed whole %.0f (%.2f x)\n", p / n, s / n, s / p }'
