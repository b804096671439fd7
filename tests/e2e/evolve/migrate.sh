#!/usr/bin/env bash
# The migrate transform end to end: normalize stamps _schemaVersion 1.0 and
# migrate moves every document to 2.0 through 1.1 (the shortest chain of
# declared migrations, each step kind used once), recording _migration;
# documents of a newer major or without a path reach the dead-letter sink
# with the reason; validate names file:line:column of an unknown step kind,
# a cycle and an unreachable target.
source "$(dirname "$0")/lib.sh"

mkdir in in2
cp "$fixtures"/domain-full.json "$fixtures"/autnum-single.json "$fixtures"/domain-dnssec.json in/
# Documents already in the unified shape with other versions: 1.1 takes one
# hop, 3.0 is a newer major, 0.9 has no path, the last has no version.
cat >in2/docs.jsonl <<'JSON'
{"handle":"H1","_schemaVersion":"1.1","ldh_name":"Mixed.EXAMPLE","source":{"whois_server":"whois.example"},"status":["active"]}
{"handle":"H2","_schemaVersion":"3.0","ldh_name":"x.example"}
{"handle":"H3","_schemaVersion":"0.9","ldh_name":"y.example"}
{"handle":"H4","ldh_name":"z.example"}
JSON

migrations='
          target: "2.0"
          migrations:
            - { from: "1.0", to: "1.1", steps: [ { rename: { from: source.port43, to: whois_server } } ] }
            - from: "1.1"
              to: "2.0"
              steps:
                - { move: { from: source.whois_server, to: whois.server } }
                - { lowercase: ldh_name }
                - { set_default: { path: notes, value: [] } }
                - { drop: "$.links" }
                - { map: { path: "status[*]", values: { active: ACTIVE } } }
            - { from: "1.0", to: "1.5", steps: [ { drop: handle } ] }
            - { from: "1.5", to: "2.0", steps: [ { drop: handle } ] }'

cat >ok.yaml <<YAML
state_dir: $work/state
pipelines:
  - name: normalized
    source: { plugin: file, config: { path: "$work/in" } }
    transforms:
      - plugin: normalize
      - plugin: migrate
        config: $migrations
    sink: { plugin: file, config: { path: "$work/out.jsonl" } }
  - name: stored
    source: { plugin: file, config: { path: "$work/in2" } }
    transforms:
      - plugin: migrate
        config: $migrations
    sink: { plugin: file, config: { path: "$work/out2.jsonl" } }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "$work/dead.jsonl" } } }
YAML
"$RDAPSYNC_BIN" validate ok.yaml || fail "validate refused a good configuration"
run ok.yaml ok.log

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def lines(p):
    with open(p) as f:
        return [json.loads(l) for l in f if l.strip()]
def fail(m):
    print("FAIL: " + m); sys.exit(1)
out = lines(work + "/out.jsonl")
if len(out) != 3:
    fail("expected 3 migrated records, got %d" % len(out))
for r in out:
    v = r["value"]
    if r["headers"].get("rdapsync.schema_version") != "1.0":
        fail("%s: normalize's header rdapsync.schema_version is not 1.0: %r" % (r["key"], r["headers"]))
    if v.get("_schemaVersion") != "2.0":
        fail("%s: _schemaVersion %r" % (r["key"], v.get("_schemaVersion")))
    if v.get("_migration") != {"from": "1.0", "path": ["1.0", "1.1", "2.0"]}:
        fail("%s: _migration %r (the shortest path through 1.1 was expected; 1.0-1.5-2.0 is as long "
             "and declared later)" % (r["key"], v.get("_migration")))
    if "handle" not in v:
        fail("%s: the 1.5 chain ran" % r["key"])
    if "links" in v or v.get("notes") is None and "notes" not in v:
        fail("%s: drop or set_default did not apply" % r["key"])
    if "port43" in v.get("source", {}) or "whois_server" in v.get("source", {}):
        fail("%s: source.port43 was not renamed and moved: %r" % (r["key"], v.get("source")))
    if v.get("ldh_name") is not None and v["ldh_name"] != v["ldh_name"].lower():
        fail("%s: ldh_name not lowercased" % r["key"])
    if "active" in v.get("status", []):
        fail("%s: status active not mapped" % r["key"])
moved = [r for r in out if "whois" in r["value"]]
if not moved or not all(r["value"]["whois"].get("server") for r in moved):
    fail("no record carries whois.server moved from source.port43")
out2 = lines(work + "/out2.jsonl")
if len(out2) != 1 or out2[0]["key"] is not None and out2[0]["value"]["handle"] != "H1":
    fail("expected H1 alone in out2: %r" % out2)
v = out2[0]["value"]
if v["_migration"] != {"from": "1.1", "path": ["1.1", "2.0"]} or v["whois"] != {"server": "whois.example"} \
        or v["ldh_name"] != "mixed.example" or v["status"] != ["ACTIVE"] or v["notes"] != []:
    fail("H1 migrated wrongly: %r" % v)
dead = lines(work + "/dead.jsonl")
want = {"H2": "schema version 3.0 is of a newer major than the target 2.0",
        "H3": "no migration path from schema version 0.9 to 2.0",
        "H4": "the document has no _schemaVersion"}
got = {d["value"]["handle"]: d["error"] for d in dead}
for h, reason in want.items():
    if h not in got or reason not in got[h]:
        fail("dead letter of %s: expected %r, got %r" % (h, reason, got.get(h)))
    print("ok: %s dead-lettered: %s" % (h, got[h]))
print("ok: %d migrated through normalize, 1 stored document migrated one hop" % len(out))
PY

note "validate names the place of bad migrations"
cat >bad.yaml <<YAML
pipelines:
  - name: kinds
    source: { plugin: file, config: { path: "$work/in" } }
    transforms:
      - plugin: migrate
        config:
          target: "1.1"
          migrations:
            - from: "1.0"
              to: "1.1"
              steps:
                - { rename: { from: port43, to: whois_server } }
                - { frobnicate: x }
    sink: { plugin: file, config: { path: "$work/x.jsonl" } }
  - name: cycle
    source: { plugin: file, config: { path: "$work/in" } }
    transforms:
      - plugin: migrate
        config:
          target: "1.2"
          migrations:
            - { from: "1.0", to: "1.1", steps: [] }
            - { from: "1.1", to: "1.2", steps: [] }
            - { from: "1.2", to: "1.0", steps: [] }
    sink: { plugin: file, config: { path: "$work/x.jsonl" } }
  - name: unreachable
    source: { plugin: file, config: { path: "$work/in" } }
    transforms:
      - plugin: migrate
        config:
          target: "2.0"
          migrations:
            - { from: "1.0", to: "1.1", steps: [] }
            - { from: "1.1", to: "2.0", steps: [] }
            - { from: "1.5", to: "1.6", steps: [] }
    sink: { plugin: file, config: { path: "$work/x.jsonl" } }
  - name: bad-path
    source: { plugin: file, config: { path: "$work/in" } }
    transforms:
      - plugin: migrate
        config:
          target: "3.0"
          migrations: [ { from: "1.0", to: "1.1", steps: [ { drop: "a[" } ] } ]
    sink: { plugin: file, config: { path: "$work/x.jsonl" } }
YAML
status=0
"$RDAPSYNC_BIN" validate bad.yaml >bad.out 2>&1 || status=$?
cat bad.out
[ "$status" -ne 0 ] || fail "validate accepted bad migrations"
expect() { grep -qF "$1" bad.out || fail "validate did not say: $1"; }
expect "bad.yaml:13:19: error: pipeline 'kinds': transform 'migrate': invalid configuration: unknown step kind 'frobnicate'"
expect "bad.yaml:23:15: error: pipeline 'cycle': transform 'migrate': invalid configuration: the migrations form a cycle"
expect "bad.yaml:35:15: error: pipeline 'unreachable': transform 'migrate': invalid configuration: the target 2.0 is unreachable from 1.5"
expect "bad.yaml:43:60: error: pipeline 'bad-path': transform 'migrate': invalid configuration: path 'a[': column 3"
echo "PASS migrate"
