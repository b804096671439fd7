#!/usr/bin/env bash
# file -> delta (emit: merge-patch) -> kafka: the topic gets exactly the
# changed events (90% of the stream repeats its key's document), the first
# version of each key whole and the others as RFC 7386 merge patches (header
# rdapsync.delta), and applying each key's messages in order rebuilds its
# last document. A second run over the same stream with the state kept
# sends nothing.
source "$(dirname "$0")/../kafka/lib.sh"
command -v kcat >/dev/null || fail "kcat not found (Debian package kcat)"

python3 "$RDAPSYNC_SOURCE_DIR/tests/e2e/evolve/delta_stream.py" in.jsonl 3000 100 5 0.9 0 --expected expected.txt
TOPIC="delta_$RUN_ID"
create_topic "$TOPIC" 1
cat >d.yaml <<YAML
state_dir: $WORK/state
pipelines:
  - name: delta
    source: { plugin: file, config: { path: "$WORK/in.jsonl" } }
    transforms: [ { plugin: delta, config: { emit: merge-patch } } ]
    sink: { plugin: kafka, config: { brokers: "$BROKERS", topic: "$TOPIC" } }
YAML
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run d.yaml >run1.log 2>&1 || { tail -20 run1.log >&2; fail "run 1"; }
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run d.yaml >run2.log 2>&1 || { tail -20 run2.log >&2; fail "run 2"; }
kcat -C -b "$BROKERS" -t "$TOPIC" -e -q -J >topic.jsonl 2>kcat.err || { cat kcat.err >&2; fail "kcat"; }

python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
def fail(m):
    print("FAIL: " + m); sys.exit(1)
events = {}
last = {}
for line in open(work + "/in.jsonl"):
    e = json.loads(line)
    events[e["seq"]] = e
    last[e["key"]] = e["value"]
expected = [int(l) for l in open(work + "/expected.txt")]
msgs = [json.loads(l) for l in open(work + "/topic.jsonl")]
if len(msgs) != len(expected):
    fail("%d messages for %d changed events (the second run must send nothing)" % (len(msgs), len(expected)))
def merge(target, patch):
    if not isinstance(patch, dict):
        return patch
    target = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge(target.get(k), v)
    return target
def header(m, name):
    h = m.get("headers") or []
    for i in range(0, len(h) - 1, 2):  # kcat -J: [name, value, name, value, ...]
        if h[i] == name:
            return h[i + 1]
    return None
docs, kinds = {}, {"full": 0, "merge-patch": 0}
for m in msgs:
    kind = header(m, "rdapsync.delta")
    if kind not in kinds:
        fail("message at offset %s has rdapsync.delta %r" % (m.get("offset"), kind))
    kinds[kind] += 1
    value = json.loads(m["payload"])
    # A key's later version may come whole too (RFC 7386 cannot write a null).
    docs[m["key"]] = value if kind == "full" else merge(docs.get(m["key"]), value)
for key, doc in last.items():
    if docs.get(key) != doc:
        fail("applying the messages of %s does not rebuild its last document" % key)
if kinds["merge-patch"] == 0:
    fail("no message was a merge patch")
size = sum(len(m["payload"]) for m in msgs)
whole = sum(len(json.dumps(events[s]["value"], separators=(",", ":"))) for s in expected)
print("ok: %d messages (%d whole, %d patches), %d bytes for %d bytes of changed documents; every key rebuilt"
      % (len(msgs), kinds["full"], kinds["merge-patch"], size, whole))
PY
log "PASS"
