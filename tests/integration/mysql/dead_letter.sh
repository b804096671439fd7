#!/usr/bin/env bash
# Rows the server refuses land in the dead-letter sink with the server's
# own message, and every other row of their batches lands. Refusals of
# three kinds, spread over batches of 200 rows: a key longer than the key
# column (3072 bytes), an origin longer than its column, and a CHECK
# constraint of the user's own on a table created beforehand. A key whose
# newest version is refused keeps its next older version of the batch.
TEST_NAME=mysql_dead_letter
. "$(dirname "$0")/lib.sh"

create_database
CLEANUPS+=("drop_database")
# The documented shape (docs/plugins/sink-mysql.md), plus a rule of the user's.
myq "CREATE TABLE rdap_domains (
       \`key\` VARBINARY(3072) NOT NULL PRIMARY KEY,
       doc JSON NULL,
       deleted BOOLEAN NOT NULL DEFAULT FALSE,
       event_time_ms BIGINT NOT NULL,
       origin VARBINARY(255) NOT NULL DEFAULT '',
       seq BIGINT NOT NULL,
       src_stream TEXT CHARACTER SET utf8mb4 NULL,
       src_partition INT NULL,
       src_offset BIGINT NULL,
       updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       CONSTRAINT no_evil CHECK (JSON_VALUE(doc, '\$.ldhName') NOT LIKE 'evil%'))" "$SINK_DB"

python3 - >changes.jsonl <<'PY'
import json
def env(key, ts, origin, name, seq=0):
    return json.dumps({"key": key, "op": "upsert", "ts_ms": ts, "origin": origin, "seq": seq,
                       "value": {"objectClassName": "domain", "handle": key[:40], "ldhName": name}})
lines = []
for i in range(1000):
    key = "d%04d.example" % i
    if i in (50, 650):        # key longer than the column
        lines.append(env("k" * 3100 + str(i), 10, "eu", "long%d.example" % i))
    if i in (120, 777):       # origin longer than the column
        lines.append(env(key + ".o", 10, "o" * 300, "origin%d.example" % i))
    if i in (333, 901):       # the user's CHECK constraint
        lines.append(env(key + ".evil", 10, "eu", "evil%d.example" % i))
    if i == 400:              # newest version refused, the older one of the same batch lands
        lines.append(env(key, 20, "eu", "evil-newest.example"))
        lines.append(env(key, 10, "eu", key, seq=1))
        continue
    lines.append(env(key, 10, "eu", key))
print("\n".join(lines))
PY
python3 - changes.jsonl >expected.jsonl <<'PY'
import json, sys
state = {}
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    bad = len(e["key"]) > 3072 or len(e["origin"]) > 255 or e["value"]["ldhName"].startswith("evil")
    if bad:
        continue
    v = (e["ts_ms"], e["origin"], e["seq"])
    if e["key"] not in state or v > state[e["key"]][0]:
        state[e["key"]] = (v, e["value"])
for k, (v, value) in sorted(state.items()):
    print(json.dumps({"key": k, "ts_ms": v[0], "origin": v[1], "seq": v[2], "value": value}))
PY

cat >run.yaml <<YAML
state_dir: $WORK/state
pipelines:
  - name: refusals
    source: { plugin: file, config: { path: "$WORK/changes.jsonl" } }
    sink: { plugin: mysql, config: { $(sink_options), table: rdap_domains, create_table: false } }
    batch: { max_records: 200, max_wait: 50ms }
    errors:
      tolerance: all
      dead_letter: { plugin: file, config: { path: "$WORK/dead.jsonl" } }
YAML
rdapsync_run run.yaml run.log
[[ "$status" -eq 0 ]] || { tail -n 20 run.log >&2; fail "rdapsync exited $status"; }
[[ -s dead.jsonl ]] || fail "nothing in the dead-letter file"

python3 - dead.jsonl <<'PY' || fail "the dead letters are not the refused rows with the server's messages"
import json, sys
letters = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
def reason(d):
    return d.get("error") or ""
want = {
    "Data too long for column 'key'": 2,
    "Data too long for column 'origin'": 2,
    "CONSTRAINT `no_evil` failed": 3,
}
got = {}
for d in letters:
    r = reason(d)
    if "mysql refused the record" not in r:
        sys.exit("a dead letter without the sink's reason: %s" % r[:300])
    for message in want:
        if message in r:
            got[message] = got.get(message, 0) + 1
            break
    else:
        sys.exit("a dead letter with an unexpected reason: %s" % r[:300])
if got != want or len(letters) != sum(want.values()):
    sys.exit("dead letters by reason %s, expected %s" % (got, want))
print("check: %d dead letters, each with the server's message" % len(letters), file=sys.stderr)
print("example reason: %s" % reason(letters[-1])[:300], file=sys.stderr)
PY
assert_state rdap_domains expected.jsonl "every row the server accepted landed"
[[ "$(myq "SELECT JSON_VALUE(doc, '\$.ldhName') FROM rdap_domains WHERE \`key\` = 'd0400.example'" "$SINK_DB")" == d0400.example ]] ||
  fail "the older version of a key whose newest was refused did not land"
log "PASS"
