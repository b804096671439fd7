#!/usr/bin/env bash
# The quickstart: installs what the build needs, builds rdapsync (Release) into
# build/, runs config/quickstart.yaml from the repository root and says what
# happened. Each run starts fresh (var/quickstart and the quickstart's state
# are removed first).
#
#   scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

if [ -f scripts/deps.sh ]; then
  say "dependencies (scripts/deps.sh build)"
  bash scripts/deps.sh build
fi

say "build (Release) into build/"
# Tests are off by default; said here too so that a build/ configured with
# them earlier needs no test dependency now.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRDAPSYNC_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"${JOBS:-2}" >/dev/null

input=samples/rdap-domains.jsonl
dead=var/quickstart/dead-letter.jsonl
if [ ! -s "$input" ]; then
  echo "missing $input: the quickstart's input ships with the repository" >&2
  exit 1
fi

bin=build/rdapsync
[ -x "$bin" ] || bin=build/host/rdapsync
rm -rf var/quickstart var/state/quickstart
say "run: $bin run config/quickstart.yaml"
status=0
"$bin" run config/quickstart.yaml || status=$?

lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
db=var/quickstart/rdap.db
rows() { sqlite3 "$db" "$1" 2>/dev/null || echo "?"; }
echo
say "summary"
echo "  exit status   : $status"
echo "  records in    : $(lines "$input") lines of $input"
echo "  rows out      : $(rows "SELECT count(*) FROM rdap_domains_live") in $db (table rdap_domains, view rdap_domains_live)"
echo "  dead letters  : $(lines "$dead") lines in $dead"
echo "  checkpoint    : var/state/quickstart/task-0/checkpoint.json"
echo "  try           : sqlite3 $db \"SELECT key, json_extract(doc, '\$.ldh_name') FROM rdap_domains_live LIMIT 5\""
if [ -s "$db" ]; then
  echo "  first row     : $(rows "SELECT doc FROM rdap_domains_live LIMIT 1" | head -c 300)..."
fi
exit "$status"
