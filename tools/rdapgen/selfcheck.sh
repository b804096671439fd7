#!/usr/bin/env bash
# Self-check of rdapgen: builds it with cc, then checks determinism, object
# sizes, that every line is JSON of the documented shape, and the --expected
# file against an independent Python computation.
# Usage: tools/rdapgen/selfcheck.sh [BUILD_DIR]   (default: a fresh temp dir)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$(mktemp -d /tmp/rdapgen-selfcheck.XXXXXX)}
mkdir -p "$build"
gen=$build/rdapgen
fail() { echo "selfcheck: FAIL: $*" >&2; exit 1; }
step() { echo "selfcheck: $*"; }

command -v python3 >/dev/null || fail "python3 is needed"
step "build ($build)"
# shellcheck disable=SC2046
cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -o "$gen" "$here"/*.c $(pkg-config --cflags --libs jansson)

step "determinism"
"$gen" --count 300 --seed 7 --classes mixed -o "$build/a1.jsonl"
"$gen" --count 300 --seed 7 --classes mixed -o "$build/a2.jsonl"
cmp -s "$build/a1.jsonl" "$build/a2.jsonl" || fail "same seed, different rdap output"
env_args=(--format envelope --count 3000 --keys 400 --updates 0.3 --deletes 0.1
          --duplicates 0.1 --out-of-order 0.1 --origins 12 --classes mixed)
"$gen" "${env_args[@]}" --seed 11 --expected "$build/x1.jsonl" -o "$build/e1.jsonl"
"$gen" "${env_args[@]}" --seed 11 --expected "$build/x2.jsonl" -o "$build/e2.jsonl"
cmp -s "$build/e1.jsonl" "$build/e2.jsonl" || fail "same seed, different envelope output"
cmp -s "$build/x1.jsonl" "$build/x2.jsonl" || fail "same seed, different expected file"
"$gen" --count 300 --seed 8 --classes mixed -o "$build/b.jsonl"
cmp -s "$build/a1.jsonl" "$build/b.jsonl" && fail "different seeds, same output"
"$gen" --count 300 --seed 7 --classes mixed | cmp -s - "$build/a1.jsonl" || fail "stdout differs from -o"

step "sizes"
"$gen" --count 2000 --seed 3 -o "$build/d4k.jsonl"
"$gen" --count 500 --seed 3 --size 8192 -o "$build/d8k.jsonl"

step "bad arguments are refused"
for args in "--updates 0.5" "--format xml" "--count -1" "--format envelope --updates 0.8 --deletes 0.5" "--size 10"; do
    # shellcheck disable=SC2086
    if "$gen" $args >/dev/null 2>&1; then fail "accepted: $args"; fi
done

if command -v jq >/dev/null; then
    step "jq parses every line"
    for f in a1 d4k d8k e1 x1; do jq -e -c . "$build/$f.jsonl" >/dev/null || fail "jq: $f.jsonl"; done
fi

step "shape, sizes, PII uniqueness, envelope and expected (python)"
python3 - "$build" <<'PY'
import json, re, sys, collections
b = sys.argv[1]
def fail(m): sys.exit("selfcheck: FAIL: " + m)
def lines(name):
    with open(f"{b}/{name}", encoding="utf-8") as f:
        return [json.loads(l) for l in f]

date = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
def check_jcard(e):
    v = e["vcardArray"]
    if v[0] != "vcard": fail("vcardArray[0]")
    props = v[1]
    if props[0][:2] != ["version", {}] or not any(p[0] == "fn" for p in props): fail("jCard version/fn")
    for p in props:
        if len(p) != 4 or p[0] != p[0].lower() or not isinstance(p[1], dict) or not isinstance(p[2], str):
            fail(f"jCard property {p}")
        if p[0] == "adr" and len(p[3]) != 7: fail("adr has 7 parts")
        if p[0] == "tel" and p[2] == "uri" and not p[3].startswith("tel:+"): fail("tel uri")
def walk_entities(o, out):
    for e in o.get("entities", []):
        if e["objectClassName"] != "entity": fail("entity class")
        check_jcard(e); out.append(e); walk_entities(e, out)
def punycode(host):
    return ".".join(l if l.isascii() else "xn--" + l.encode("punycode").decode() for l in host.split("."))

classes, handles = collections.Counter(), set()
emails, phones = [], []
for o in lines("a1.jsonl") + [None] + lines("d4k.jsonl"):
    if o is None:  # handles are unique within one run
        handles = set(); continue
    classes[o["objectClassName"]] += 1
    if "rdapConformance" not in o or "rdap_level_0" not in o["rdapConformance"]: fail("rdapConformance")
    for ev in o.get("events", []):
        if not date.match(ev["eventDate"]): fail("date " + ev["eventDate"])
    ents = []; walk_entities(o, ents)
    for e in ents:
        for p in e["vcardArray"][1]:
            if p[0] == "email" and not p[3].startswith("abuse@"): emails.append(p[3])
            if p[0] == "tel" and "registrar" not in e.get("roles", []) and "abuse" not in e.get("roles", []):
                phones.append(p[3].split(";")[0])
    if o["objectClassName"] == "domain":
        if o.get("handle") in handles: fail("duplicate handle " + o["handle"])
        handles.add(o.get("handle"))
        if "unicodeName" in o and punycode(o["unicodeName"]) != o["ldhName"].lower():
            fail(f"punycode {o['unicodeName']} -> {o['ldhName']}")
        roles = [r for e in o["entities"] for r in e["roles"]]
        if "registrar" not in roles or "registrant" not in roles: fail("registrar/registrant")
        reg = next(e for e in o["entities"] if "registrar" in e["roles"])
        if reg["publicIds"][0]["type"] != "IANA Registrar ID": fail("IANA ID")
if set(classes) != {"domain", "entity", "nameserver", "ip network", "autnum"}: fail(f"classes {classes}")
print(f"  classes in a mixed run: {dict(classes)}")
print(f"  contact emails: {len(emails)}, distinct {len(set(emails))}; contact phones: {len(phones)}, distinct {len(set(phones))}")
if len(set(emails)) < 0.99 * len(emails): fail("emails are not unique enough")
if len(set(phones)) < 0.98 * len(phones): fail("phones are not unique enough")

for name, want in (("d4k.jsonl", 4096), ("d8k.jsonl", 8192)):
    with open(f"{b}/{name}", "rb") as f:
        sizes = [len(l) - 1 for l in f]
    avg = sum(sizes) / len(sizes)
    print(f"  --size {want}: average {avg:.0f} bytes, min {min(sizes)}, max {max(sizes)}")
    if abs(avg - want) > 0.15 * want: fail(f"{name} average {avg}")

# Envelope: recompute the final state independently of rdapgen.
env = lines("e1.jsonl")
def ver(l): return (l["ts_ms"], l["origin"].encode(), l["seq"])
best, seen_lines, kinds = {}, set(), collections.Counter()
for l in env:
    if set(l) != {"key", "op", "ts_ms", "origin", "seq", "value"}: fail("envelope members")
    if (l["op"] == "delete") != (l["value"] is None): fail("delete carries null")
    if l["op"] == "upsert" and l["value"]["handle"] != l["key"]: fail("key is the handle")
    text = json.dumps(l, sort_keys=True)
    k = l["key"]
    if text in seen_lines: kinds["duplicate"] += 1
    elif k in best and ver(l) < ver(best[k]): kinds["older"] += 1
    elif k in best: kinds["newer"] += 1
    else: kinds["first"] += 1
    seen_lines.add(text)
    if k not in best or ver(l) > ver(best[k]): best[k] = l
ties = collections.Counter((l["key"], l["ts_ms"]) for l in {ver(l) + (l["key"],): l for l in env}.values())
kinds["ts ties"] = sum(1 for n in ties.values() if n > 1)
print(f"  envelope lines: {dict(kinds)}, {len({l['origin'] for l in env})} origins")
for kind in ("duplicate", "older", "newer", "first", "ts ties"):
    if kinds[kind] == 0: fail("no " + kind + " lines")
want = []
for k in sorted(best, key=lambda s: s.encode()):
    l = best[k]
    if l["op"] != "upsert": continue
    v = json.dumps(l["value"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    want.append('{"key":%s,"ts_ms":%d,"origin":%s,"seq":%d,"value":%s}' % (
        json.dumps(k, ensure_ascii=False), l["ts_ms"], json.dumps(l["origin"]), l["seq"], v))
with open(f"{b}/x1.jsonl", encoding="utf-8") as f:
    got = f.read().splitlines()
if got != want:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w: fail(f"expected file differs at line {i + 1}:\n got  {g[:200]}\n want {w[:200]}")
    fail(f"expected file has {len(got)} lines, want {len(want)}")
print(f"  expected file: {len(got)} live keys of {len(best)}, identical to the independent computation")
PY
step "OK"
