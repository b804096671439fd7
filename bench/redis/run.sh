#!/usr/bin/env bash
# file -> redis throughput and memory, against `redis-cli --pipe` doing the
# same SETs (the same keys, the same document bytes) in the same run on the
# same server.
#
#   bench/redis/run.sh                        # 50,000 ~4 KB RDAP domains
#   RECORDS=20000 BATCH=1000 REPEAT=3 bench/redis/run.sh
#
# Runs, one task each, into an empty database, REPEAT times alternately
# (the best of each counts: the machine is shared):
#   load      rdapsync run: file -> redis (wall time and peak RSS of the
#             whole process: reading, parsing, serializing, staging SETs and
#             the guard script, pipelined)
#   sink-only bench/sqlite/sink_only_bench: the sink's write()+flush() alone,
#             the batches filled beforehand (no reading or parsing timed)
#   discard   rdapsync run: file -> discard, the pipeline without a sink
#   ceiling   redis-cli --pipe of "SET <prefix><key> <document>" for every
#             record, the documents serialized as the sink stores them;
#             building the protocol file is not timed, only redis-cli
#   lua-floor redis-cli --pipe of the same SETs run by a bare Lua loop, 64
#             per EVAL: what passing documents through any server-side
#             script costs, before a guard (the sink does not do this: its
#             documents go to staging strings by plain SETs)
#   script-arg redis-cli --pipe of one EVAL "return 1" per document with the
#             document as its argument, then the same with a 2-byte
#             argument: what handing a document to a script costs by itself
#   vguard    redis-cli --pipe of the same SETs, and per 64 of them one EVAL
#             that only compares and sets a version key per document: less
#             than any correct guard does, so the least a script-guarded
#             sink adds on the server
# After each step the server's INFO commandstats is read (CONFIG RESETSTAT
# before it), and its usec_per_call per command printed: the server's own
# time per command, without the protocol reading that the wall time also
# holds.
# Target: >= 0.8 x ceiling. The ratio is printed for the load and for the
# sink alone: the load also pays the pipeline's reading and parsing (the
# discard row), which redis-cli, sending ready-made bytes, does not. Figures
# only, nothing fails.
#
# The server: RDAPSYNC_REDIS_URL (with RDAPSYNC_REDIS_HOST/_PORT/_USER/
# _PASSWORD, as scripts/servers/redis.sh env prints) if set, else
# scripts/servers/redis.sh is started (and stopped again at the end). The
# benchmark empties the database it uses (RDAPSYNC_REDIS_BENCH_DB, default
# 15) with FLUSHDB.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-50000}
size=${RECORD_SIZE:-4096}
seed=${SEED:-1}
batch=${BATCH:-1000}
repeat=${REPEAT:-1}
db=${RDAPSYNC_REDIS_BENCH_DB:-15}

say() { printf '==> %s\n' "$*" >&2; }

if ! [ -x /usr/bin/time ]; then
  say "installing Debian's time package (for /usr/bin/time -v)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq time >/dev/null
fi
command -v redis-cli >/dev/null || { echo "redis-cli not found (Debian package redis-tools)" >&2; exit 1; }

say "build (Release) in $build"
# Warnings do not stop a benchmark: -Werror is for the CI build.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDAPSYNC_WERROR=OFF >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_sink_redis rdapsync_sink_discard rdapgen \
  redis_resp sink_only_bench >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
resp=$(find "$build" -name redis_resp -type f -perm -u+x | head -1)
sink_bench=$(find "$build" -name sink_only_bench -type f -perm -u+x | head -1)
[ -n "$rdapgen" ] && [ -n "$resp" ] && [ -n "$sink_bench" ] || { echo "a tool was not built" >&2; exit 1; }

started_server=0
if [ -z "${RDAPSYNC_REDIS_URL:-}" ]; then
  export RDAPSYNC_SERVERS_DIR=${RDAPSYNC_SERVERS_DIR:-$build/servers}
  say "starting Redis (scripts/servers/redis.sh) in $RDAPSYNC_SERVERS_DIR"
  scripts/servers/redis.sh start
  eval "$(scripts/servers/redis.sh env)"
  started_server=1
fi
rcli() {
  REDISCLI_AUTH="$RDAPSYNC_REDIS_PASSWORD" redis-cli --no-auth-warning -h "$RDAPSYNC_REDIS_HOST" \
    -p "$RDAPSYNC_REDIS_PORT" --user "$RDAPSYNC_REDIS_USER" -n "$db" "$@"
}

mkdir -p "$build/bench-data"
data=$build/bench-data/envelopes-$records-$size-$seed.jsonl
if [ ! -s "$data" ]; then
  say "generating $records change envelopes of ~$size bytes into $data"
  "$rdapgen" --format envelope --count "$records" --seed "$seed" --size "$size" -o "$data.tmp"
  mv "$data.tmp" "$data"
fi
lines=$(wc -l <"$data")

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-redis.XXXXXX")
cleanup() {
  rcli FLUSHDB >/dev/null 2>&1 || true
  rm -rf "$work"
  if [ "$started_server" = 1 ]; then scripts/servers/redis.sh stop || true; fi
}
trap cleanup EXIT
export RDAPSYNC_PLUGIN_PATH=$build/plugins

say "writing the SET commands of the same documents (not timed)"
"$resp" bench: <"$data" >"$work/sets.resp"
"$resp" bench: 64 <"$data" >"$work/lua.resp"
"$resp" bench: noop <"$data" >"$work/noop.resp"
"$resp" bench: small <"$data" >"$work/small.resp"
"$resp" bench: vguard <"$data" >"$work/vguard.resp"

cat >"$work/load.yaml" <<YAML
state_dir: $work/state
log: { level: info }
pipelines:
  - name: bench
    tasks: 1
    source: { plugin: file, config: { path: "$data" } }
    sink:
      plugin: redis
      config:
        host: "\${env:RDAPSYNC_REDIS_HOST}"
        port: \${env:RDAPSYNC_REDIS_PORT}
        database: $db
        username: "\${env:RDAPSYNC_REDIS_USER}"
        password: "\${env:RDAPSYNC_REDIS_PASSWORD}"
        prefix: "bench:"
    batch: { max_records: $batch, max_wait: 1s }
    errors: { tolerance: none }
YAML

sed -n '/^      config:$/,/^    batch:/p' "$work/load.yaml" | sed '1d;$d;s/^        //' >"$work/sink.yaml"
cat >"$work/discard.yaml" <<YAML
state_dir: $work/state-discard
log: { level: warn }
pipelines:
  - name: bench
    tasks: 1
    source: { plugin: file, config: { path: "$data" } }
    sink: { plugin: discard }
    batch: { max_records: $batch, max_wait: 1s }
    errors: { tolerance: none }
YAML

# measure NAME CMD...: wall time (s) and peak RSS (KB).
measure() {
  local name=$1 t w r
  shift
  t=$work/$name.time
  /usr/bin/time -v -o "$t" "$@" >"$work/$name.log" 2>&1 || {
    tail -n 20 "$work/$name.log" >&2
    echo "$name failed" >&2
    exit 1
  }
  w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
  r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
  echo "$w $r"
}

# The server's main thread's CPU seconds so far (user + system): the one
# thread that runs the commands and reads the requests.
server_cpu() {
  rcli INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys)_main_thread:/ {t += $2} END {printf "%.3f", t}'
}
# reset: CONFIG RESETSTAT, and the server's CPU time from now on.
reset() {
  rcli CONFIG RESETSTAT >/dev/null
  cpu0=$(server_cpu)
}
# stats NAME: the server's commandstats since the last reset, as "command
# usec_per_call calls" lines in $work/NAME.stats, and the server's CPU
# seconds in $work/NAME.cpu; then resets.
stats() {
  awk -v a="$(server_cpu)" -v b="$cpu0" 'BEGIN {printf "%.3f\n", a - b}' >"$work/$1.cpu"
  rcli INFO commandstats | tr -d '\r' |
    awk -F'[:,=]' '/^cmdstat_/ {c = substr($1, 9); if (c !~ /^(config|info|flushdb|dbsize|auth|select|echo|ping|script)/) print c, $7, $3}' \
    >"$work/$1.stats"
  reset
}
# pipe NAME FILE: redis-cli --pipe of FILE, timed (as measure).
pipe() {
  measure "$1" env REDISCLI_AUTH="$RDAPSYNC_REDIS_PASSWORD" redis-cli --no-auth-warning -h "$RDAPSYNC_REDIS_HOST" \
    -p "$RDAPSYNC_REDIS_PORT" --user "$RDAPSYNC_REDIS_USER" -n "$db" --pipe <"$2"
}
# no_errors NAME: redis-cli --pipe answered no error reply.
no_errors() { grep -q "errors: 0," "$work/$1.log" || { cat "$work/$1.log" >&2; exit 1; }; }

cat "$data" "$work/sets.resp" >/dev/null # warm page cache
best_load="" best_load_rss="" best_ceil="" best_sink="" best_discard="" best_lua="" best_noop="" best_small="" best_vguard="" best_sink_cpu="" best_vguard_cpu="" best_ceil_cpu=""
better() { [ -z "$2" ] || awk -v a="$1" -v b="$2" 'BEGIN {exit !(a < b)}'; }
for run in $(seq 1 "$repeat"); do
  rcli FLUSHDB >/dev/null
  say "load $run/$repeat: file -> redis, empty database"
  read -r load_wall load_rss < <(measure load "$build/host/rdapsync" run "$work/load.yaml")
  rm -rf "$work/state"
  # Every document and its version key.
  stored=$(rcli DBSIZE)
  [ "$stored" = "$((2 * lines))" ] || { echo "the sink stored $stored keys for $lines records" >&2; exit 1; }
  rcli FLUSHDB >/dev/null
  reset
  say "ceiling $run/$repeat: redis-cli --pipe of the same SETs"
  read -r ceil_wall _ < <(pipe ceiling "$work/sets.resp")
  grep -q "errors: 0, replies: $lines" "$work/ceiling.log" || { cat "$work/ceiling.log" >&2; exit 1; }
  stats ceiling
  rcli FLUSHDB >/dev/null
  reset
  say "lua-floor $run/$repeat: redis-cli --pipe of the same SETs in a bare Lua loop"
  read -r lua_wall _ < <(pipe lua "$work/lua.resp")
  no_errors lua
  stats lua
  if better "$lua_wall" "$best_lua"; then best_lua=$lua_wall; fi
  rcli FLUSHDB >/dev/null
  reset
  say "script-arg $run/$repeat: EVAL \"return 1\" with each document, then with a 2-byte argument"
  read -r noop_wall _ < <(pipe noop "$work/noop.resp")
  no_errors noop
  stats noop
  read -r small_wall _ < <(pipe small "$work/small.resp")
  no_errors small
  stats small
  if better "$noop_wall" "$best_noop"; then best_noop=$noop_wall; fi
  if better "$small_wall" "$best_small"; then best_small=$small_wall; fi
  rcli FLUSHDB >/dev/null
  reset
  say "vguard $run/$repeat: the same SETs and a version-only guard script per 64"
  read -r vguard_wall _ < <(pipe vguard "$work/vguard.resp")
  no_errors vguard
  stats vguard
  if better "$vguard_wall" "$best_vguard"; then best_vguard=$vguard_wall; fi
  rcli FLUSHDB >/dev/null
  reset
  say "sink-only $run/$repeat: write()+flush() of the same batches"
  read -r _ sink_n _ sink_s _ < <("$sink_bench" --plugin "$build/plugins/sink-redis.so" --config "$work/sink.yaml" \
    --input "$data" --batch "$batch")
  [ "$sink_n" = "$lines" ] || { echo "sink_only_bench wrote $sink_n records of $lines" >&2; exit 1; }
  stats sink
  if better "$(cat "$work/sink.cpu")" "$best_sink_cpu"; then best_sink_cpu=$(cat "$work/sink.cpu"); fi
  if better "$(cat "$work/vguard.cpu")" "$best_vguard_cpu"; then best_vguard_cpu=$(cat "$work/vguard.cpu"); fi
  if better "$(cat "$work/ceiling.cpu")" "$best_ceil_cpu"; then best_ceil_cpu=$(cat "$work/ceiling.cpu"); fi
  say "discard $run/$repeat: the pipeline without a sink"
  read -r discard_wall _ < <(measure discard "$build/host/rdapsync" run "$work/discard.yaml")
  rm -rf "$work/state-discard"
  if better "$sink_s" "$best_sink"; then best_sink=$sink_s; fi
  if better "$discard_wall" "$best_discard"; then best_discard=$discard_wall; fi
  if [ -z "$best_load" ] || awk -v a="$load_wall" -v b="$best_load" 'BEGIN {exit !(a < b)}'; then best_load=$load_wall; fi
  if [ -z "$best_load_rss" ] || [ "$load_rss" -gt "$best_load_rss" ]; then best_load_rss=$load_rss; fi
  if [ -z "$best_ceil" ] || awk -v a="$ceil_wall" -v b="$best_ceil" 'BEGIN {exit !(a < b)}'; then best_ceil=$ceil_wall; fi
  printf '    run %d: load %.2f s, ceiling %.2f s, lua-floor %.2f s, sink-only %.2f s, discard %.2f s; sink/ceiling %.2f\n' \
    "$run" "$load_wall" "$ceil_wall" "$lua_wall" "$sink_s" "$discard_wall" \
    "$(awk -v c="$ceil_wall" -v s="$sink_s" 'BEGIN {print c / s}')" >&2
done

echo
echo "file -> redis benchmark: $lines records of ~$size bytes, one task, $batch-record batches, best of $repeat"
echo "server: redis $(rcli INFO server | tr -d '\r' | awk -F: '/^redis_version/ {print $2}') on $RDAPSYNC_REDIS_HOST:$RDAPSYNC_REDIS_PORT"
awk -v n="$lines" -v w="$best_load" -v r="$best_load_rss" -v cs="$best_ceil" -v so="$best_sink" \
    -v d="$best_discard" -v lf="$best_lua" -v no="$best_noop" -v sm="$best_small" -v vg="$best_vguard" 'BEGIN {
  printf "%-36s %8.2f s %9.0f rows/s\n", "redis-cli --pipe SET (ceiling)", cs, n / cs
  printf "%-36s %8.2f s %9.0f rows/s\n", "the same SETs in a Lua loop (floor)", lf, n / lf
  printf "%-36s %8.2f s %9.0f rows/s\n", "EVAL \"return 1\" with each document", no, n / no
  printf "%-36s %8.2f s %9.0f rows/s\n", "EVAL \"return 1\" with 2 bytes", sm, n / sm
  printf "%-36s %8.2f s %9.0f rows/s\n", "SETs + version-only guard (vguard)", vg, n / vg
  printf "%-36s %8.2f s %9.0f rows/s\n", "sink write()+flush() alone", so, n / so
  printf "%-36s %8.2f s %9.0f rows/s  %6.1f MB peak RSS\n", "rdapsync file -> redis (load)", w, n / w, r / 1024
  printf "%-36s %8.2f s %9.0f rows/s\n", "rdapsync file -> discard", d, n / d
  printf "ratio sink alone / ceiling          : %.2f (target >= 0.80)\n", cs / so
  printf "ratio load / ceiling                : %.2f\n", cs / w
  printf "ratio sink alone / Lua floor        : %.2f\n", lf / so
  printf "ratio vguard / ceiling              : %.2f (the least any script guard costs)\n", cs / vg
}'
echo
echo "server time per command (INFO commandstats usec_per_call, last run; calls in brackets):"
for step in ceiling lua noop small vguard sink; do
  case $step in
  ceiling) label="redis-cli --pipe SET" ;;
  lua) label="SETs in a Lua loop" ;;
  noop) label="EVAL with each document" ;;
  small) label="EVAL with 2 bytes" ;;
  vguard) label="SETs + version-only guard" ;;
  sink) label="sink write()+flush()" ;;
  esac
  printf '  %-26s %s\n' "$label" "$(awk '{printf "%s%s %.2f us [%d]", (NR > 1 ? ", " : ""), $1, $2, $3}' "$work/$step.stats")"
done
# Commands inside a script count in its own time and again in theirs: the
# sink's server time is its staging SETs (one per row) and its EVALSHAs.
awk -v n="$lines" '$1 == "set" {s = $2} $1 == "evalsha" {e = $2 * $3} END {
  printf "  %-26s %.2f us per row (staging SET %.2f + guard script %.2f)\n", "sink server time", s + e / n, s, e / n}' \
  "$work/sink.stats"
awk -v n="$lines" '{t += $2 * $3} END {printf "  %-26s %.2f us per row\n", "ceiling server time", t / n}' "$work/ceiling.stats"
# What the server alone allows: its main thread runs the commands one at a
# time, so the sink's write+flush lasts at least that thread's CPU time for
# it; the ratio cannot exceed the ceiling's wall time over that, whatever
# the client does. Best (least) of the runs.
awk -v cs="$best_ceil" -v c="$best_ceil_cpu" -v s="$best_sink_cpu" -v v="$best_vguard_cpu" 'BEGIN {
  printf "  %-26s ceiling %.2f s, sink %.2f s, vguard %.2f s (main thread, least of the runs)\n", "server CPU time", c, s, v
  printf "  %-26s %.2f (best ceiling wall / the sink'"'"'s server CPU time)\n", "ratio bound from server", cs / s
  printf "  %-26s %.2f (the same for the version-only guard)\n", "vguard bound from server", cs / v
}'
