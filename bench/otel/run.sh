#!/usr/bin/env bash
# What OpenTelemetry traces cost a pipeline: file -> normalize -> discard,
# one task, without `otel:` (the baseline, measured in the same run) and
# with it, against a real collector (scripts/servers/otelcol.sh, started
# here on a free port in a folder of this run) and against a collector
# that is down (nothing listens on its port).
#
#   bench/otel/run.sh                    # 100,000 ~4 KB RDAP domains
#   RECORDS=20000 REPEAT=3 bench/otel/run.sh
#
# Rows:
#   off                 no otel block
#   on, ratio 0         batch and stage spans only
#   on, ratio 0.01      + 1 % of the records get a span (the default)
#   on, ratio 1         + every record gets a span
#   down, ratio 1       every record gets a span, the collector is down (all dropped)
# Wall time, records/s and the ratio to `off`. Figures only: nothing here
# passes or fails; the target is >= 0.95 x off at ratio 0.01.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-100000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
repeat=${REPEAT:-1}
batch=${BATCH:-1000}

say() { printf '==> %s\n' "$*" >&2; }

say "build (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_sink_discard \
  rdapsync_transform_normalize rdapgen >/dev/null
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

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-otel.XXXXXX")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
export RDAPSYNC_SERVERS_DIR=$work/servers RDAPSYNC_OTEL_PORT
RDAPSYNC_OTEL_PORT=$(free_port)
otelcol=$repo/scripts/servers/otelcol.sh
cleanup() { bash "$otelcol" stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
say "collector on port $RDAPSYNC_OTEL_PORT (built on first use: minutes)"
bash "$otelcol" start
up=http://127.0.0.1:$RDAPSYNC_OTEL_PORT
down=http://127.0.0.1:$(free_port)
export RDAPSYNC_PLUGIN_PATH=$build/plugins

config() { # NAME [ENDPOINT RATIO] -> config file path
  local otel=""
  [ -z "${2:-}" ] || otel="otel: { endpoint: \"$2\", sample_ratio: $3 }"
  cat >"$work/$1.yaml" <<YAML
state_dir: $work/state-$1
log: { level: error }
$otel
pipelines:
  - name: bench-$1
    source: { plugin: file, config: { path: "$data" } }
    transforms: [ { plugin: normalize } ]
    sink: { plugin: discard }
    batch: { max_records: $batch, max_wait: 1s }
    errors: { tolerance: all, dead_letter: { plugin: discard } }
YAML
  echo "$work/$1.yaml"
}

# run NAME CONFIG -> best wall seconds of $repeat runs
run() {
  local best="" t0 t1 s
  for _ in $(seq "$repeat"); do
    rm -rf "$work/state-$1"
    t0=$(date +%s%N)
    "$build/host/rdapsync" run "$2" >"$work/$1.log" 2>&1 || { tail "$work/$1.log" >&2; exit 1; }
    t1=$(date +%s%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    if [ -z "$best" ] || awk -v x="$s" -v y="$best" 'BEGIN { exit !(x < y) }'; then best=$s; fi
  done
  echo "$best"
}

declare -A wall
rows=("off" "on, ratio 0" "on, ratio 0.01" "on, ratio 1" "down, ratio 1")
wall["off"]=$(run off "$(config off)")
wall["on, ratio 0"]=$(run r0 "$(config r0 "$up" 0)")
wall["on, ratio 0.01"]=$(run r001 "$(config r001 "$up" 0.01)")
wall["on, ratio 1"]=$(run r1 "$(config r1 "$up" 1)")
wall["down, ratio 1"]=$(run d1 "$(config d1 "$down" 1)")
traces="$RDAPSYNC_SERVERS_DIR/otelcol/traces.jsonl"
sleep 1 # the file exporter writes every 100 ms
spans=$(python3 -c 'import json,sys; print(sum(len(s["spans"]) for l in open(sys.argv[1]) if l.strip() for r in json.loads(l)["resourceSpans"] for s in r["scopeSpans"]))' "$traces")

printf '\n%s records of ~%s bytes, file -> normalize -> discard, batches of %s, best of %s\n' "$lines" "$size" "$batch" "$repeat"
printf '%-16s %9s %12s %9s\n' row "wall s" "records/s" "x off"
for r in "${rows[@]}"; do
  printf '%-16s %9s %12s %9s\n' "$r" "${wall[$r]}" \
    "$(awk -v n="$lines" -v s="${wall[$r]}" 'BEGIN { printf "%.0f", n / s }')" \
    "$(awk -v a="${wall[off]}" -v b="${wall[$r]}" 'BEGIN { printf "%.3f", a / b }')"
done
printf 'spans the collector received over the three "on" rows: %s\n' "$spans"
