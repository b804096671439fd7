#!/usr/bin/env bash
# config/quickstart.yaml exactly as the README's first command runs it (from
# a folder laid out like the repository root): every sample record ends up
# normalized and redacted in SQLite, and no personal data of the samples does.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
ln -s "$RDAPSYNC_SOURCE_DIR/samples" samples
ln -s "$RDAPSYNC_SOURCE_DIR/config" config
fail() { echo "FAIL: $*" >&2; exit 1; }

"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" validate --strict config/quickstart.yaml ||
  fail "the quickstart configuration does not validate cleanly"
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run config/quickstart.yaml >run.log 2>&1 ||
  { tail -20 run.log; fail "rdapsync run exited non-zero"; }

in=$(wc -l <samples/rdap-domains.jsonl)
rows=$(sqlite3 var/quickstart/rdap.db "SELECT count(*) FROM rdap_domains_live")
[ "$rows" -eq "$in" ] || fail "$rows rows for $in input records"
[ ! -s var/quickstart/dead-letter.jsonl ] || fail "sample records were dead-lettered"
schema=$(sqlite3 var/quickstart/rdap.db "SELECT count(*) FROM rdap_domains_live WHERE json_extract(doc, '\$.rdapsync.policy') = 'gdpr-enterprise'")
[ "$schema" -eq "$in" ] || fail "only $schema of $in rows went through the redact policy"

# Registrant e-mail addresses of the samples (generated, one per record) must
# not reach the database.
sqlite3 var/quickstart/rdap.db "SELECT doc FROM rdap_domains" >docs.txt
python3 - samples/rdap-domains.jsonl docs.txt <<'PY'
import json, sys
emails = set()
for line in open(sys.argv[1], encoding="utf-8"):
    doc = json.loads(line)
    for ent in doc.get("entities", []):
        if "registrant" not in ent.get("roles", []):
            continue
        for prop in (ent.get("vcardArray") or ["", []])[1]:
            if prop[0] == "email":
                emails.add(prop[3])
out = open(sys.argv[2], encoding="utf-8").read()
leaked = [e for e in emails if e in out]
if not emails:
    sys.exit("FAIL: no registrant e-mail found in the samples: the check would prove nothing")
if leaked:
    sys.exit(f"FAIL: {len(leaked)} registrant e-mails leaked, e.g. {leaked[0]}")
print(f"{len(emails)} registrant e-mails checked, none in the database")
PY
# A second run finds the checkpoint: it says so, and how to start over,
# rather than "end of input: 0 records".
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run config/quickstart.yaml >run2.log 2>&1 ||
  { tail -20 run2.log; fail "the second run exited non-zero"; }
grep -q 'resumed from checkpoint var/state/quickstart/task-0/checkpoint.json: nothing new since samples/rdap-domains.jsonl byte [0-9]* (line 500); to start over, remove var/state/quickstart/task-0' run2.log ||
  { cat run2.log; fail "the second run does not say it resumed and found nothing new"; }
grep -q 'end of input: 0 records' run2.log && { cat run2.log; fail "the second run still reports an empty input"; }
rows2=$(sqlite3 var/quickstart/rdap.db "SELECT count(*) FROM rdap_domains_live")
[ "$rows2" -eq "$rows" ] || fail "the second run changed the table: $rows2 rows"
echo "PASS: quickstart: $rows rows, redacted"
