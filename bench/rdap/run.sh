#!/usr/bin/env bash
# The rdap source against icann-rdap-srv on loopback (not run in CI):
#   1. objects per second and CPU per object, unlimited (rate 0);
#   2. the same at a configured rate (the figure should be the rate);
#   3. requests per object on a refresh where nothing changed, through the
#      tests' proxy, which adds ETags (so the refresh is all 304s).
# Variables: OBJECTS (10000), RATED_OBJECTS (1000), RATE (100), PROXY_OBJECTS
# (2000), CONCURRENCY (8), BUILD_DIR (build). Needs the rdap-srv binaries
# (scripts/servers/rdap.sh build).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$root/build}"
OBJECTS="${OBJECTS:-10000}"
RATED_OBJECTS="${RATED_OBJECTS:-1000}"
RATE="${RATE:-100}"
PROXY_OBJECTS="${PROXY_OBJECTS:-2000}"
CONCURRENCY="${CONCURRENCY:-8}"
RDAP_BIN_DIR="${RDAPSYNC_RDAP_BIN_DIR:-${RDAPSYNC_CACHE_DIR:-$HOME/.cache/rdapsync}/icann-rdap-0.0.30/bin}"
log() { printf '[%s bench-rdap] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[[ -x "$RDAP_BIN_DIR/rdap-srv" ]] || { log "no rdap-srv: run scripts/servers/rdap.sh build"; exit 1; }
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target rdapsync rdapsync_source_rdap rdapsync_sink_discard rdapsync_sink_file rdapgen >/dev/null
export RDAPSYNC_PLUGIN_PATH="$BUILD_DIR/plugins" RDAPSYNC_PROGRESS=plain
BIN="$BUILD_DIR/host/rdapsync"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-rdap.XXXXXX")"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
calc() { python3 -c "print($1)"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

log "generating $OBJECTS domains"
mkdir -p data
"$BUILD_DIR/tools/rdapgen/rdapgen" --count "$OBJECTS" --seed 5 --size 4096 -o gen.jsonl
python3 "$root/tests/integration/rdap/split.py" gen.jsonl data bench- >names.txt
PORT="$(free_port)"
RDAP_SRV_DATA_DIR="$WORK/data" RDAP_SRV_LISTEN_ADDR=127.0.0.1 RDAP_SRV_LISTEN_PORT="$PORT" RDAP_SRV_LOG=warn \
  "$RDAP_BIN_DIR/rdap-srv" >srv.log 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 300); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/rdap/domain/x.invalid" && break
  sleep 0.1
done
python3 "$root/tests/integration/rdap/proxy.py" 0 "$PORT" "$WORK/proxy.port" --max-seconds 3600 >proxy.log 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 100); do [[ -s proxy.port ]] && break; sleep 0.1; done
PPORT="$(cat proxy.port)"

# run NAME OBJECTS_FILE URL RATE SINK -> "wall_s cpu_s"
run() {
  local name="$1" objects="$2" url="$3" rate="$4" sink="$5"
  cat >"$name.yaml" <<YAML
state_dir: state-$name
pipelines:
  - name: $name
    source:
      plugin: rdap
      config: { objects: $objects, servers: { "*": "$url" }, refresh: 0, rate: $rate, concurrency: $CONCURRENCY }
    sink: $sink
YAML
  python3 - "$BIN" "$name.yaml" "$name.log" <<'PY'
import resource, subprocess, sys, time
t0 = time.monotonic()
with open(sys.argv[3], "ab") as log:
    rc = subprocess.call([sys.argv[1], "run", sys.argv[2]], stdout=log, stderr=log)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if rc != 0:
    sys.exit("rdapsync exited with %d" % rc)
print("%.3f %.3f" % (wall, ru.ru_utime + ru.ru_stime))
PY
}

DISCARD='{ plugin: discard }'
log "1. unlimited: $OBJECTS objects, concurrency $CONCURRENCY"
read -r wall cpu < <(run unlimited names.txt "http://127.0.0.1:$PORT/rdap/" 0 "$DISCARD")
printf 'unlimited       %6d objects  %8.0f objects/s  %7.1f us CPU/object (rdapsync)  %6.2f s\n' \
  "$OBJECTS" "$(calc "$OBJECTS / $wall")" "$(calc "$cpu * 1000000 / $OBJECTS")" "$wall"

head -n "$RATED_OBJECTS" names.txt >rated.txt
log "2. rate $RATE/s: $RATED_OBJECTS objects"
read -r wall cpu < <(run rated rated.txt "http://127.0.0.1:$PORT/rdap/" "$RATE" "$DISCARD")
printf 'rate %-5s      %6d objects  %8.1f objects/s  %7.1f us CPU/object (rdapsync)  %6.2f s\n' \
  "$RATE" "$RATED_OBJECTS" "$(calc "$RATED_OBJECTS / $wall")" "$(calc "$cpu * 1000000 / $RATED_OBJECTS")" "$wall"

head -n "$PROXY_OBJECTS" names.txt >proxied.txt
log "3. unchanged refresh through the ETag proxy: $PROXY_OBJECTS objects"
FILE_SINK='{ plugin: file, config: { path: out/refresh.jsonl } }'
run refresh proxied.txt "http://127.0.0.1:$PPORT/rdap/" 0 "$FILE_SINK" >/dev/null
first="$(curl -s "http://127.0.0.1:$PPORT/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')"
records_first="$(wc -l <out/refresh.jsonl)"
read -r wall cpu < <(run refresh proxied.txt "http://127.0.0.1:$PPORT/rdap/" 0 "$FILE_SINK")
stats="$(curl -s "http://127.0.0.1:$PPORT/_stats")"
second="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$stats")"
n304="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["conditional"])' "$stats")"
emitted=$(( $(wc -l <out/refresh.jsonl) - records_first ))
printf 'unchanged refresh  %d objects: %.3f requests/object, %d answered 304, %d records emitted, %.2f s\n' \
  "$PROXY_OBJECTS" "$(calc "($second - $first) / $PROXY_OBJECTS")" "$n304" "$emitted" "$wall"
