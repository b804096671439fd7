#!/usr/bin/env bash
# The worked example of docs/plugins/source-rdap.md runs: its objects list
# and its follow.yaml are read from the document itself, with only what
# the document says to change to try it without the Internet (`servers:`
# pointing at an icann-rdap-srv instead of `bootstrap:`) and this run's
# port and table name. The server holds example.com, example.net and
# entity ABC123-FRNIC (fixtures with those names); rdapsync runs the
# pipeline (normalize, redact gdpr-standard, postgres) until the three rows
# are in the table; the rows must be unified records redacted by
# gdpr-standard, with no registrant's or technical contact's email, phone
# or street left. Needs RDAPSYNC_PG_DSN (scripts/servers/postgres.sh env).
TEST_NAME=rdap_worked_example
. "$(dirname "$0")/lib.sh"

[[ -n "${RDAPSYNC_PG_DSN:-}" ]] ||
  fail "RDAPSYNC_PG_DSN is not set: scripts/servers/postgres.sh start, then export what 'scripts/servers/postgres.sh env' prints"
command -v psql >/dev/null || fail "psql not found (Debian package postgresql-client)"
pgq() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$RDAPSYNC_PG_DSN" -c "$1"; }

DOC="$RDAPSYNC_SOURCE_DIR/docs/plugins/source-rdap.md"
FIX="$RDAPSYNC_SOURCE_DIR/tests/fixtures/rdap"
TABLE="rdap_portfolio_$$"
HTTP_PORT="$(free_port)"
mkdir -p srvdata
# Policies are looked up in config/policies of the working directory, as
# in a checkout.
mkdir -p config
ln -s "$RDAPSYNC_SOURCE_DIR/config/policies" config/policies

# The server's objects, under the names the example follows.
python3 - "$FIX" srvdata <<'PY'
import json, os, sys
fix, out = sys.argv[1], sys.argv[2]
def put(src, name, handle, kind):
    d = json.load(open(os.path.join(fix, src), encoding="utf-8"))
    d["handle"] = handle
    if kind == "domain":
        d["ldhName"] = name
        d.pop("unicodeName", None)
    with open(os.path.join(out, "%s-%s.json" % (kind, handle)), "w", encoding="utf-8") as f:
        json.dump(d, f)
put("domain-full.json", "example.com", "D1-EXAMPLECOM", "domain")
put("domain-ccpa-california.json", "example.net", "D2-EXAMPLENET", "domain")
put("entity-registrant.json", None, "ABC123-FRNIC", "entity")
PY
srv_start main "$WORK/srvdata"

# The document's two blocks: the objects file and follow.yaml.
# shellcheck disable=SC2154 # SRV_PORT_main is set by srv_start
python3 - "$DOC" "$SRV_PORT_main" "$HTTP_PORT" "$TABLE" <<'PY' || fail "the worked example's blocks changed: update this test"
import os, re, sys
doc, port, http_port, table = sys.argv[1:]
text = open(doc, encoding="utf-8").read()
ex = text[text.index("## Worked example"):]
m = re.search(r"cat > (config/follow/[^ ]+) <<'TXT'\n(.*?)\nTXT\n", ex, re.S)
path, objects = m.group(1), m.group(2)
os.makedirs(os.path.dirname(path), exist_ok=True)
open(path, "w").write(objects + "\n")
y = re.search(r"The pipeline \(`follow.yaml`\):\n\n```yaml\n(.*?)```", ex, re.S).group(1)
subs = [
    ("bootstrap: https://data.iana.org/rdap/", 'servers: { "*": "http://127.0.0.1:%s/rdap/" }' % port),
    ('listen: "127.0.0.1:8080"', 'listen: "127.0.0.1:%s"' % http_port),
    ("table: rdap_portfolio\n", "table: %s\n" % table),
    ("${file:/etc/rdapsync/dlq.keyring}", "${file:%s/dlq.keyring}" % os.getcwd()),
]
for a, b in subs:
    if y.count(a) != 1:
        sys.exit("follow.yaml: %r is not there once" % a)
    y = y.replace(a, b)
open("follow.yaml", "w").write(y)
PY
log "objects: $(grep -vc '^#' config/follow/*.txt), follow.yaml from the document"
# The dead letters' keyring the document reads from /etc/rdapsync.
( umask 077; printf 'k1:%s\n' "$(openssl rand -base64 32)" >dlq.keyring )
mkdir -p var

cleanup_table() { pgq "DROP VIEW IF EXISTS ${TABLE}_live; DROP TABLE IF EXISTS $TABLE" >/dev/null 2>&1 || true; }
trap 'rc=$?; cleanup_table; (exit $rc); cleanup' EXIT

FAIL_LOGS="$WORK/run.log"
"$RDAPSYNC_BIN" validate follow.yaml >>run.log 2>&1 || fail "rdapsync validate follow.yaml failed"
start_rdapsync follow.yaml run.log
rows() { [[ "$(pgq "SELECT count(*) FROM $TABLE" 2>/dev/null)" == 3 ]]; }
wait_until "3 rows in $TABLE" rows
kill -TERM "$RDAPSYNC_PID"
wait_exit
(( STATUS == 0 )) || fail "rdapsync exited with $STATUS after SIGTERM"
[[ ! -s var/dlq/portfolio.jsonl ]] || fail "dead letters: $(head -c 300 var/dlq/portfolio.jsonl)"

pgq "SELECT key FROM $TABLE ORDER BY key" >keys.txt
printf '%s\n' ABC123-FRNIC D1-EXAMPLECOM D2-EXAMPLENET | diff - keys.txt >&2 || fail "not the three objects followed"
pgq "SELECT doc::text FROM $TABLE ORDER BY key" >docs.jsonl
python3 - srvdata docs.jsonl <<'PY' || fail "the rows are not redacted as gdpr-standard says"
import json, os, sys
srv, docs = sys.argv[1], sys.argv[2]
# The personal data gdpr-standard removes or replaces: registrants' and
# technical contacts' emails, phones and streets in the served objects.
needles = set()
def walk(n):
    if isinstance(n, dict):
        roles = n.get("roles") or []
        if "vcardArray" in n and set(roles) & {"registrant", "technical"}:
            for p in n["vcardArray"][1]:
                if p[0] in ("email", "tel") and isinstance(p[3], str) and "REDACTED" not in p[3]:
                    needles.add(p[3].split(";")[0])
                if p[0] == "adr" and isinstance(p[3], list) and len(p[3]) > 2 and isinstance(p[3][2], str) and p[3][2]:
                    needles.add(p[3][2])
        for v in n.values():
            walk(v)
    elif isinstance(n, list):
        for v in n:
            walk(v)
for f in os.listdir(srv):
    walk(json.load(open(os.path.join(srv, f), encoding="utf-8")))
assert len(needles) >= 3, needles
text = open(docs, encoding="utf-8").read()
left = sorted(x for x in needles if x in text)
if left:
    sys.exit("personal data left: %d of %d values" % (len(left), len(needles)))
for line in open(docs, encoding="utf-8"):
    d = json.loads(line)
    meta = d.get("rdapsync") or {}
    if meta.get("policy") != "gdpr-standard":
        sys.exit("a row without rdapsync.policy gdpr-standard: %s" % sorted(d)[:12])
    if not d.get("redacted"):
        sys.exit("a row without RFC 9537 redacted entries")
    for r in d["redacted"]:
        if not (r.get("name") and r.get("method") and (r.get("prePath") or r.get("postPath"))):
            sys.exit("malformed redacted entry: %s" % sorted(r))
print("%d rows, %d personal values gone" % (sum(1 for _ in open(docs)), len(needles)))
PY
log "PASS"
