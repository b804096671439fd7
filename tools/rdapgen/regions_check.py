#!/usr/bin/env python3
"""Checks rdapgen --regions against an independent computation.

Runs the generator, then recomputes from the region streams alone (every
line of every region, in no particular order) what docs/generator.md says
expected.jsonl holds: the heads of each key (versions no other dominates)
and the visible document under lww, merge, region-priority and manual.
Also checks determinism (same seed, same bytes; another seed, other bytes),
the stream shape (vectors sorted, the origin's own counter counting its
writes) and that conflicts actually occur.

usage: regions_check.py RDAPGEN WORKDIR
"""
import json
import os
import subprocess
import sys


def fail(msg):
    print("regions_check: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(gen, out, seed, extra=()):
    args = [gen, "--format", "envelope", "--regions", "3", "--conflict-rate", "0.3", "--count", "2000",
            "--keys", "200", "--size", "512", "--seed", str(seed), "--classes", "mixed", "-o", out, *extra]
    subprocess.run(args, check=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def dominated(a, b):
    """a <= b everywhere (missing regions are 0)."""
    return all(c <= b.get(r, 0) for r, c in a.items())


def version(line):
    # rdapsync_version_compare: ts_ms, then origin as bytes, then seq.
    return (line["ts_ms"], line["origin"].encode(), line["seq"])


def main():
    if len(sys.argv) != 3:
        fail(__doc__)
    gen, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    a, b, c = (os.path.join(work, d) for d in ("a", "b", "c"))
    run(gen, a, 5)
    run(gen, b, 5)
    run(gen, c, 6)
    names = ["region-1.jsonl", "region-2.jsonl", "region-3.jsonl", "expected.jsonl"]
    for n in names:
        if read(os.path.join(a, n)) != read(os.path.join(b, n)):
            fail("same seed, different " + n)
    if read(os.path.join(a, "expected.jsonl")) == read(os.path.join(c, "expected.jsonl")):
        fail("different seeds, same expected.jsonl")

    lines = []
    for i in (1, 2, 3):
        own = {}
        for raw in open(os.path.join(a, "region-%d.jsonl" % i), encoding="utf-8"):
            line = json.loads(raw)
            region = "region-%d" % i
            if line["origin"] != region or line["op"] != "upsert":
                fail("a line of %s has origin %s, op %s" % (region, line["origin"], line["op"]))
            vv = line["vv"]
            if list(vv) != sorted(vv, key=lambda r: r.encode()) or any(v < 1 for v in vv.values()):
                fail("vector not sorted or with a counter < 1: %s" % vv)
            own[line["key"]] = own.get(line["key"], 0) + 1
            if vv.get(region) != own[line["key"]]:
                fail("%s's counter of key %s is %s after %d writes" % (region, line["key"], vv.get(region),
                                                                        own[line["key"]]))
            lines.append(line)

    by_key = {}
    for line in lines:
        heads = by_key.setdefault(line["key"], [])
        if any(dominated(line["vv"], h["vv"]) for h in heads):
            continue
        heads[:] = [h for h in heads if not dominated(h["vv"], line["vv"])] + [line]

    priority = ["region-1", "region-2", "region-3"]
    expected = [json.loads(x) for x in open(os.path.join(a, "expected.jsonl"), encoding="utf-8")]
    if [e["key"] for e in expected] != sorted(by_key, key=lambda k: k.encode()):
        fail("expected.jsonl does not list every key once, sorted by bytes")
    conflicts = merged_differs = priority_differs = 0
    for e in expected:
        heads = sorted(by_key[e["key"]], key=version)
        got = [(h["vv"], h["ts_ms"], h["origin"], h["seq"], h["value"]) for h in e["heads"]]
        want = [(h["vv"], h["ts_ms"], h["origin"], h["seq"], h["value"]) for h in heads]
        if got != want:
            fail("heads of %s differ" % e["key"])
        lww = heads[-1]["value"]
        merge = {}
        for h in reversed(heads):
            for k, v in h["value"].items():
                merge.setdefault(k, v)
        prio = min(reversed(heads), key=lambda h: priority.index(h["origin"]))["value"]
        visible = e["visible"]
        want_visible = {"lww": lww, "merge": merge, "region-priority": prio, "manual": lww}
        if visible != want_visible:
            fail("visible documents of %s differ: %s" % (e["key"], [k for k in visible
                                                                     if visible[k] != want_visible.get(k)]))
        conflicts += len(heads) > 1
        merged_differs += merge != lww
        priority_differs += prio != lww
    if not (conflicts and merged_differs and priority_differs):
        fail("too few conflicts to prove anything: %d keys with concurrent heads, merge differs on %d, "
             "region-priority on %d" % (conflicts, merged_differs, priority_differs))

    # --priority reorders region-priority only.
    d = os.path.join(work, "d")
    run(gen, d, 5, ("--priority", "region-3,region-1"))
    for n in names[:3]:
        if read(os.path.join(a, n)) != read(os.path.join(d, n)):
            fail("--priority changed the stream " + n)
    for e, f in zip(expected, (json.loads(x) for x in open(os.path.join(d, "expected.jsonl"), encoding="utf-8"))):
        heads = sorted(by_key[e["key"]], key=version)
        rank = {"region-3": 0, "region-1": 1, "region-2": 2}
        prio = min(reversed(heads), key=lambda h: rank[h["origin"]])["value"]
        if f["visible"]["region-priority"] != prio or f["visible"]["lww"] != e["visible"]["lww"]:
            fail("--priority region-3,region-1: region-priority of %s is wrong" % e["key"])

    for bad in (["--regions", "2", "--deletes", "0.1"], ["--conflict-rate", "0.1"], ["--regions", "2"],
                ["--regions", "2", "--priority", "region-9"]):
        args = [gen, "--format", "envelope", *bad]
        if "--regions" in bad and "-o" not in bad and bad != ["--regions", "2"]:
            args += ["-o", os.path.join(work, "bad")]
        r = subprocess.run(args, capture_output=True)
        if r.returncode != 2 or not r.stderr:
            fail("not refused with a message: %s" % " ".join(bad))
    print("regions_check: ok: %d lines, %d keys, %d with concurrent heads (merge differs from lww on %d, "
          "region-priority on %d)" % (len(lines), len(expected), conflicts, merged_differs, priority_differs))


main()
