#!/usr/bin/env bash
# What a subject request costs on the SQLite sink, against SQLite reading
# the same table alone, measured in the same run on the same file.
#
#   bench/subject/run.sh                  # 20,000 ~2 KB RDAP domains, normalized
#   RECORDS=100000 bench/subject/run.sh
#
# Needs a build with the tests (subject_tool, tests/integration/subject) in
# BUILD_DIR (default build/); the build type is left as it is. Rows:
#   scan LIKE     sqlite3: SELECT count(*) ... WHERE doc LIKE '%email%' (the prefilter alone)
#   scan all      sqlite3: SELECT sum(length(doc)) (every document read once)
#   find email    subject_find email: prefilter + the matcher on the candidates
#   find phone    subject_find phone: no prefilter, every document parsed and matched
#   erase email   subject_erase email: find + delete + secure_delete + TRUNCATE checkpoint
# Wall seconds, best of REPEAT (default 3). Figures only, nothing fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
records=${RECORDS:-20000}
repeat=${REPEAT:-3}
say() { printf '==> %s\n' "$*" >&2; }

cmake --build "$build" -j2 --target rdapsync rdapsync_source_file rdapsync_transform_normalize rdapsync_sink_sqlite \
  rdapgen subject_tool >/dev/null
rdapgen=$(find "$build" -name rdapgen -type f -perm -u+x | head -1)
tool=$build/tests/integration/subject/subject_tool
plugins=$build/plugins
work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-bench-subject.XXXXXX")
trap 'rm -rf "$work"' EXIT

say "generating and loading $records documents"
"$rdapgen" --format envelope --count "$records" --seed 7 --size 2048 -o "$work/in.jsonl"
cat >"$work/b.yaml" <<YAML
state_dir: $work/state
pipelines:
  - name: bench
    source: { plugin: file, config: { path: "$work/in.jsonl" } }
    transforms: [ { plugin: normalize } ]
    sink: { plugin: sqlite, config: { path: "$work/b.db" } }
    batch: { max_records: 1000 }
YAML
"$build/host/rdapsync" --plugin-path "$plugins" run "$work/b.yaml" >"$work/run.log" 2>&1
export RDAPSYNC_PLUGIN_PATH=$plugins
q() { sqlite3 "$work/b.db" "$1"; }
email=$(q "SELECT json_extract(doc, '\$.contacts.registrant[0].emails[0]') FROM rdap_records
           WHERE json_extract(doc, '\$.contacts.registrant[0].emails[0]') IS NOT NULL LIMIT 1")
phone=$(q "SELECT json_extract(doc, '\$.contacts.registrant[0].phones[0].number') FROM rdap_records
           WHERE json_extract(doc, '\$.contacts.registrant[0].phones[0].number') IS NOT NULL LIMIT 1")
rows=$(q "SELECT count(*) FROM rdap_records")
bytes=$(q "SELECT sum(length(doc)) FROM rdap_records")
say "$rows rows, $bytes bytes of documents; subject email:$email, phone:$phone"

best() { # command... -> the fastest wall time of $repeat runs, in seconds
  local b="" t
  for _ in $(seq 1 "$repeat"); do
    local s=$(date +%s.%N); "$@" >/dev/null; local e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    if [[ -z "$b" ]] || (( $(echo "$t < $b" | bc) )); then b=$t; fi
  done
  printf '%.3f' "$b"
}
like=$(best q "SELECT count(*) FROM rdap_records WHERE doc LIKE '%$email%'")
all=$(best q "SELECT sum(length(doc)) FROM rdap_records")
femail=$(best "$tool" "$work/b.yaml" find "email:$email")
fphone=$(best "$tool" "$work/b.yaml" find "phone:$phone")
hits=$("$tool" "$work/b.yaml" find "email:$email" | wc -l)
cp "$work/b.db" "$work/keep.db"
erase_once() { cp "$work/keep.db" "$work/b.db"; rm -f "$work/b.db-wal" "$work/b.db-shm"; "$tool" "$work/b.yaml" erase "email:$email"; }
erase=$(best erase_once)
ratio() { echo "scale=1; $1 / $2" | bc; }
printf '\n%-14s %9s %s\n' row seconds "ratio"
printf '%-14s %9s %s\n' "scan LIKE" "$like" "1.0 (baseline of find email)"
printf '%-14s %9s %s\n' "scan all" "$all" "1.0 (baseline of find phone)"
printf '%-14s %9s %sx scan LIKE (%s hits)\n' "find email" "$femail" "$(ratio "$femail" "$like")" "$hits"
printf '%-14s %9s %sx scan all\n' "find phone" "$fphone" "$(ratio "$fphone" "$all")"
printf '%-14s %9s %sx scan LIKE (includes copying the database back)\n' "erase email" "$erase" "$(ratio "$erase" "$like")"
