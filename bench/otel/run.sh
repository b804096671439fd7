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
# Wall time, records/s and the ratio to `off`; rdapsync's CPU time (user +
# system, /usr/bin/time) and its ratio to `off`. Figures only: nothing here
# passes or fails; the target is <= 1.05 x off CPU at ratio 0.01.
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

if ! [ -x /usr/bin/time ]; then
  say "installing Debian's time package (for /usr/bin/time)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq time >/dev/null
fi

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

# run NAME CONFIG -> "wall cpu" seconds of the fastest of $repeat runs
# (cpu: rdapsync's user + system time, from /usr/bin/time)
run() {
  local best="" line
  for _ in $(seq "$repeat"); do
    rm -rf "$work/state-$1"
    /usr/bin/time -f '%e %U %S' -o "$work/$1.time" "$build/host/rdapsync" run "$2" >"$work/$1.log" 2>&1 ||
      { tail "$work/$1.log" >&2; exit 1; }
    line=$(awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$work/$1.time")
    if [ -z "$best" ] || awk -v x="${line%% *}" -v y="${best%% *}" 'BEGIN { exit !(x < y) }'; then best=$line; fi
  done
  echo "$best"
}

declare -A res
rows=("off" "on, ratio 0" "on, ratio 0.01" "on, ratio 1" "down, ratio 1")
res["off"]=$(run off "$(config off)")
res["on, ratio 0"]=$(run r0 "$(config r0 "$up" 0)")
res["on, ratio 0.01"]=$(run r001 "$(config r001 "$up" 0.01)")
res["on, ratio 1"]=$(run r1 "$(config r1 "$up" 1)")
res["down, ratio 1"]=$(run d1 "$(config d1 "$down" 1)")
traces="$RDAPSYNC_SERVERS_DIR/otelcol/traces.jsonl"
sleep 1 # the file exporter writes every 100 ms
spans=$(python3 -c 'import json,sys; print(sum(len(s["spans"]) for l in open(sys.argv[1]) if l.strip() for r in json.loads(l)["resourceSpans"] for s in r["scopeSpans"]))' "$traces")

w0=${res[off]%% *}
c0=${res[off]##* }
printf '\n%s records of ~%s bytes, file -> normalize -> discard, batches of %s, best of %s\n' "$lines" "$size" "$batch" "$repeat"
printf '%-16s %8s %11s %8s %8s %10s\n' row "wall s" "records/s" "x off" "cpu s" "cpu x off"
for r in "${rows[@]}"; do
  w=${res[$r]%% *}
  c=${res[$r]##* }
  printf '%-16s %8s %11s %8s %8s %10s\n' "$r" "$w" \
    "$(awk -v n="$lines" -v s="$w" 'BEGIN { printf "%.0f", n / s }')" \
    "$(awk -v a="$w0" -v b="$w" 'BEGIN { printf "%.3f", a / b }')" "$c" \
    "$(awk -v a="$c0" -v b="$c" 'BEGIN { printf "%.3f", b / a }')"
done
echo "x off: throughput relative to off (higher is better); cpu x off: rdapsync's CPU relative to off (lower"
echo "is better). The collector shares the machine: its CPU is not rdapsync's, but it slows the \"on\" rows."
printf 'spans the collector received over the three "on" rows: %s\n' "$spans"
