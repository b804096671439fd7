#!/usr/bin/env bash
# The proposed SQLite quickstart (config/quickstart-sqlite.yaml) as a user
# runs it: from a folder holding the repository's samples, the command ends
# with a database that sqlite3 can query, one live row per domain of the
# sample; a second run adds nothing and changes nothing.
source "$(dirname "$0")/lib.sh"

config="$RDAPSYNC_SOURCE_DIR/config/quickstart-sqlite.yaml"
sample="$RDAPSYNC_SOURCE_DIR/samples/rdap-domains.jsonl"
[ -f "$config" ] || fail "$config is missing"
[ -s "$sample" ] || fail "$sample is missing"
mkdir samples
cp "$sample" samples/
cp "$config" quickstart.yaml

run quickstart.yaml run.log
[ "$status" -eq 0 ] || { cat run.log >&2; fail "rdapsync exited $status"; }
[ -f var/quickstart/rdap.db ] || fail "no database at var/quickstart/rdap.db"
[ ! -s var/quickstart/dead-letter.jsonl ] || fail "unexpected dead letters: $(head -c 300 var/quickstart/dead-letter.jsonl)"

keys=$(python3 -c '
import json, sys
print(len({d.get("handle") or d.get("ldhName") for d in map(json.loads, open(sys.argv[1], encoding="utf-8"))}))
' samples/rdap-domains.jsonl)
[ "$keys" -gt 0 ] || fail "the sample holds no domains"
check count var/quickstart/rdap.db "SELECT count(*) FROM rdap_domains_live" "$keys"
check count var/quickstart/rdap.db "SELECT count(*) FROM rdap_domains_live WHERE json_valid(doc) AND doc ->> '\$.ldhName' IS NOT NULL" "$keys"
if command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 var/quickstart/rdap.db 'SELECT count(*) FROM rdap_domains_live')" = "$keys" ] ||
    fail "the sqlite3 shell does not see the $keys rows"
fi
before=$(python3 -c "import sqlite3; print(sqlite3.connect('var/quickstart/rdap.db').execute('SELECT group_concat(updated_at) FROM rdap_domains').fetchone()[0])")

note "a second run resumes at the end: nothing changes"
run quickstart.yaml run2.log
[ "$status" -eq 0 ] || { cat run2.log >&2; fail "second run exited $status"; }
after=$(python3 -c "import sqlite3; print(sqlite3.connect('var/quickstart/rdap.db').execute('SELECT group_concat(updated_at) FROM rdap_domains').fetchone()[0])")
[ "$before" = "$after" ] || fail "the second run rewrote rows"
echo "PASS quickstart_sqlite ($keys domains)"
