#!/usr/bin/env bash
# The delta transform under kill -9: a stream where 90% of the events repeat
# their key's last document (the rest change one to three members, 2%
# delete) through file -> delta -> file, killed at random moments and
# restarted until a run completes. The output then holds exactly the
# changed events and deletes, each once: no changed document was skipped
# (delta's state never got ahead of what the sink flushed) and no delivered
# one was sent again as changed (its state never fell behind the
# checkpoint). The same with emit: merge-patch: applying the patches in
# order rebuilds every key's last document.
source "$(dirname "$0")/lib.sh"

python3 "$here/delta_stream.py" in.jsonl 20000 400 9 0.9 0.02 --expected expected.txt
note "$(wc -l <expected.txt) of 20000 events must be delivered"

config() { # FILE OUTPUT EMIT
  cat >"$1" <<YAML
state_dir: $work/state-$3
pipelines:
  - name: delta
    source: { plugin: file, config: { path: "$work/in.jsonl" } }
    transforms:
      - { plugin: delta, config: { emit: $3 } }
    sink: { plugin: file, config: { path: "$2" } }
    batch: { max_records: 200, max_wait: 20ms }
YAML
}

# kill_and_finish CONFIG NAME: kill -9 at random moments (6 kills), then run to the end.
kill_and_finish() {
  local config=$1 name=$2 kills=0 attempts=0 pid status
  while [ "$kills" -lt 6 ]; do
    attempts=$((attempts + 1))
    [ "$attempts" -le 100 ] || fail "the run kept finishing before the kill ($kills kills)"
    "$RDAPSYNC_BIN" run "$config" >>"$config.log" 2>&1 &
    pid=$!
    # Not before the file sink's first flush: until its sidecar exists, a
    # file left by a killed run is kept whole (the file sink's rule, not
    # delta's), and the replay would duplicate its lines.
    for _ in $(seq 1 200); do
      [ -f "$work/out-$name/out.jsonl.flushed" ] || ! kill -0 "$pid" 2>/dev/null && break
      sleep 0.01
    done
    sleep "0.$(printf '%02d' $((RANDOM % 40 + 1)))"
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid"; wait "$pid" 2>/dev/null || true
      kills=$((kills + 1))
    else
      status=0; wait "$pid" || status=$?
      [ "$status" -eq 0 ] || { tail -20 "$config.log"; fail "a run exited $status before its kill"; }
      note "a run finished before its kill point; starting over"
      rm -rf "$work/state-$name" "$work/out-$name"
    fi
  done
  run "$config" "$config.final.log"
  note "$name: $(grep -c 'pending versions were delivered before the restart' "$config.log" || true) restarts settled pending versions"
}

config full.yaml "$work/out-full/out.jsonl" full
kill_and_finish full.yaml full
config patch.yaml "$work/out-merge-patch/out.jsonl" merge-patch
kill_and_finish patch.yaml merge-patch

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def fail(m):
    print("FAIL: " + m); sys.exit(1)
expected = [int(l) for l in open(work + "/expected.txt")]
events = {}
last = {}
for line in open(work + "/in.jsonl"):
    e = json.loads(line)
    events[e["seq"]] = e
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
for name in ("full", "merge-patch"):
    out = [json.loads(l) for l in open("%s/out-%s/out.jsonl" % (work, name))]
    seqs = [r["version"]["seq"] for r in out]
    if len(seqs) != len(set(seqs)):
        fail("%s: an event was delivered twice" % name)
    missing = sorted(set(expected) - set(seqs))
    extra = sorted(set(seqs) - set(expected))
    if missing:
        fail("%s: %d changed events were skipped, e.g. seq %s" % (name, len(missing), missing[:5]))
    if extra:
        fail("%s: %d unchanged events were delivered, e.g. seq %s" % (name, len(extra), extra[:5]))
    docs = {}
    patches = 0
    for r in out:
        e = events[r["version"]["seq"]]
        if r["op"] == "delete":
            docs.pop(r["key"], None)
            continue
        kind = r["headers"].get("rdapsync.delta", "full")
        if name == "full" and r["value"] != e["value"]:
            fail("full: seq %d is not the event's document" % e["seq"])
        docs[r["key"]] = merge(docs.get(r["key"]), r["value"]) if kind == "merge-patch" else r["value"]
        patches += kind == "merge-patch"
        if docs[r["key"]] != e["value"]:
            fail("%s: after seq %d the rebuilt document of %s differs from the event's" % (name, e["seq"], r["key"]))
    if name == "merge-patch" and patches == 0:
        fail("merge-patch: no record was sent as a patch")
    print("ok: %s: %d of %d events delivered, each once%s" % (name, len(seqs), len(events),
          ", %d as merge patches rebuilding every document" % patches if name == "merge-patch" else ""))
PY
echo "PASS delta_kill9"
