#!/usr/bin/env bash
# Version vectors through the binary, file to file: every envelope's "vv"
# arrives unchanged (keys sorted) in the output envelope, and a line whose
# "vv" is not a version vector goes to the dead-letter file with its raw
# bytes and a reason naming FILE:LINE:COLUMN, while the rest flows on.
source "$(dirname "$0")/lib.sh"

python3 - "$work/in.jsonl" >bad_lines.txt <<'PY'
import json, sys
lines, bad = [], {}
for i in range(1, 61):
    vv = {"us-east": i, "eu-central": (i * 7) % 5 + 1}
    if i % 4 == 0:
        vv["ap-south"] = i // 4
    lines.append(json.dumps({"key": "K%d" % (i % 17), "op": "upsert", "ts_ms": 1000 + i, "origin": "us-east",
                             "seq": i, "vv": vv, "value": {"handle": "K%d" % (i % 17), "n": i}}))
bad_vv = {7: '{"us-east":0}', 19: '{"":1}', 33: '[1,2]', 48: '{"a":1.5}'}
for line_no, text in bad_vv.items():
    lines[line_no - 1] = ('{"key":"B%d","op":"upsert","ts_ms":1,"origin":"x","seq":1,"vv":%s,"value":{}}'
                          % (line_no, text))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
print(" ".join(str(k) for k in sorted(bad_vv)))
PY
read -r -a bad_lines <bad_lines.txt

write_config vv.yaml "$work/in.jsonl" "$work/out/changes.jsonl" all
run vv.yaml vv.log
[ "$status" -eq 0 ] || { cat vv.log; fail "exit $status"; }
python3 - "$work/in.jsonl" out/changes.jsonl out/dead.jsonl "${bad_lines[@]}" <<'PY'
import json, sys
inp, out, dead, bad = sys.argv[1], sys.argv[2], sys.argv[3], [int(x) for x in sys.argv[4:]]
src = open(inp, encoding="utf-8").read().split("\n")[:-1]
want = [json.loads(l) for n, l in enumerate(src, 1) if n not in bad]
got = [json.loads(l) for l in open(out, encoding="utf-8")]
assert len(got) == len(want), f"{len(got)} records out, {len(want)} expected"
for w, g in zip(want, got):
    assert g["vv"] == w["vv"], (w, g)
    assert list(g["vv"]) == sorted(g["vv"]), f"vv keys not sorted: {g['vv']}"
    assert g["version"] == {"ts_ms": w["ts_ms"], "origin": w["origin"], "seq": w["seq"]}, g["version"]
letters = [json.loads(l) for l in open(dead, encoding="utf-8")]
assert len(letters) == len(bad), f"{len(letters)} dead letters for {len(bad)} bad vectors"
for n, letter in zip(bad, letters):
    col = src[n - 1].index('"vv"') + 1
    place = f"{inp}:{n}:{col}: envelope \"vv\": "
    assert letter["error"].startswith(place), (letter["error"], place)
    assert letter["raw"] == src[n - 1], "raw bytes kept"
    assert "vv" not in letter, "a bad vector is not carried"
print(f"{len(got)} records with their vectors, {len(letters)} dead letters placed FILE:LINE:COLUMN")
PY
echo "PASS version_vectors"
