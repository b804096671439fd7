#!/usr/bin/env bash
# file -> postgres with version vectors (conflicts: {...}, the multi-value
# register) against plain version-guarded upserts of the same changes,
# measured in the same run on the same server.
#
#   bench/multiregion/run.sh                        # 50,000 changes over 10,000 keys
#   RECORDS=100000 KEYS=20000 bench/multiregion/run.sh
#
# Data: rdapgen change envelopes (updates included), and the same lines with
# a "vv" member added: each key's changes form a chain of vectors over three
# regions, every CONFLICT_EVERY-th change of a key concurrent with the one
# before it. Runs, one task each, into empty tables:
#   plain   file -> postgres, upsert mode, the records without vectors
#   vectors file -> postgres with conflicts: { strategy: lww }, the records
#           with vectors (heads column, conflict log, visible row)
# Wall time per run: REPEAT rounds of each, alternating; the ratio of the
# medians (and of the bests). Target: vectors >= 0.9 x plain.
# Figures only, nothing fails.
#
# The server: RDAPSYNC_PG_DSN if set, else scripts/servers/postgres.sh is
# started (and stopped again at the end).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-50000}
keys=${KEYS:-10000}
size=${RECORD_SIZE:-2048}
batch=${BATCH:-500}
repeat=${REPEAT:-5}
conflict_every=${CONFLICT_EVERY:-10}

say() { printf '==> %s\n' "$*" >&2; }

say "build (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDAPSYNC_WERROR=OFF >/dev/null
cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_sink_postgres rdapgen >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
rdapsync=$(find "$build" -name rdapsync -type f -perm -u+x -path '*host*' | head -1)
[ -n "$rdapsync" ] || rdapsync=$(find "$build" -maxdepth 2 -name rdapsync -type f -perm -u+x | head -1)
plugins=$(dirname "$(find "$build" -name sink-postgres.so | head -1)")

started_server=0
if [ -z "${RDAPSYNC_PG_DSN:-}" ]; then
  export RDAPSYNC_SERVERS_DIR=${RDAPSYNC_SERVERS_DIR:-$build/servers}
  scripts/servers/postgres.sh start
  eval "$(scripts/servers/postgres.sh env)"
  started_server=1
fi
pgq() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" "$@"; }

mkdir -p "$build/bench-data"
plain=$build/bench-data/mr-$records-$keys-$size.jsonl
vectors=$build/bench-data/mr-$records-$keys-$size-$conflict_every.utf8.vv.jsonl
if [ ! -s "$plain" ]; then
  say "generating $records changes over $keys keys"
  "$rdapgen" --format envelope --count "$records" --keys "$keys" --updates 0.8 --size "$size" --seed 3 \
    -o "$plain.tmp"
  mv "$plain.tmp" "$plain"
fi
if [ ! -s "$vectors" ]; then
  python3 - "$plain" "$vectors.tmp" "$conflict_every" <<'PY'
import json, sys
regions = ["eu", "us", "ap"]
chains = {}
every = int(sys.argv[3])
# The same bytes as the plain lines, "vv" added: UTF-8 left as it is, not
# escaped (json.dumps' default), or every document of the vectors run would
# be a text the host must rebuild and re-serialize, and the plain one not.
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in src:
        v = json.loads(line)
        n, vv = chains.get(v["key"], (0, {}))
        region = regions[n % 3]
        # Every `every`-th change did not see the one before it.
        base = dict(vv) if n % every != every - 1 else {}
        base[region] = vv.get(region, 0) + 1
        chains[v["key"]] = (n + 1, {r: max(vv.get(r, 0), base.get(r, 0)) for r in set(vv) | set(base)})
        v["vv"] = dict(sorted(base.items()))
        out.write(json.dumps(v, separators=(",", ":"), ensure_ascii=False) + "\n")
PY
  mv "$vectors.tmp" "$vectors"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-mr.XXXXXX")
cleanup() {
  pgq -c "DROP TABLE IF EXISTS bench_mr_plain, bench_mr_vv, bench_mr_vv_heads, bench_mr_vv_conflicts CASCADE" \
    >/dev/null 2>&1 || true
  rm -rf "$work"
  if [ "$started_server" = 1 ]; then scripts/servers/postgres.sh stop || true; fi
}
trap cleanup EXIT

# once NAME INPUT SINK_EXTRA: one run into empty tables; prints seconds.
once() {
  pgq -c "DROP TABLE IF EXISTS bench_mr_$1, bench_mr_$1_heads, bench_mr_$1_conflicts CASCADE" >/dev/null
  rm -rf "$work/state"
  cat >"$work/$1.yaml" <<YAML
state_dir: $work/state
pipelines:
  - name: bench-$1
    source: { plugin: file, config: { path: "$2" } }
    sink: { plugin: postgres, config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: bench_mr_$1$3 } }
    batch: { max_records: $batch }
YAML
  local t0 t1
  t0=$(date +%s.%N)
  "$rdapsync" --plugin-path "$plugins" run "$work/$1.yaml" >"$work/$1.log" 2>&1 || { tail "$work/$1.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

# Rounds alternate (plain, vectors, plain, ...) so that both runs see the
# same drift of a shared machine; each prints its median and best.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
say "measuring ($repeat rounds each, alternating)"
: >"$work/plain.times"
: >"$work/vv.times"
for _ in $(seq 1 "$repeat"); do
  once plain "$plain" "" >>"$work/plain.times"
  once vv "$vectors" ", conflicts: { strategy: lww }" >>"$work/vv.times"
done
t_plain=$(median <"$work/plain.times")
t_vv=$(median <"$work/vv.times")
b_plain=$(sort -n "$work/plain.times" | head -1)
b_vv=$(sort -n "$work/vv.times" | head -1)
heads=$(pgq -c "SELECT count(*) FROM bench_mr_vv WHERE heads IS NOT NULL")
open=$(pgq -c "SELECT count(*) FROM bench_mr_vv_conflicts WHERE resolved_at IS NULL")
printf '%-10s %14s %10s %12s\n' run "median s" records/s "best s"
printf '%-10s %14.2f %10.0f %12.2f\n' plain "$t_plain" "$(echo "$records / $t_plain" | bc -l)" "$b_plain"
printf '%-10s %14.2f %10.0f %12.2f\n' vectors "$t_vv" "$(echo "$records / $t_vv" | bc -l)" "$b_vv"
printf 'vectors / plain throughput: %.3f of the medians, %.3f of the bests (target >= 0.90); %s keys with heads, %s open conflicts\n' \
  "$(echo "$t_plain / $t_vv" | bc -l)" "$(echo "$b_plain / $b_vv" | bc -l)" "$heads" "$open"
