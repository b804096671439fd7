#!/usr/bin/env python3
"""Multi-region streams with version vectors, and the checks of the
convergence test (convergence.sh).

  regions.py gen DIR --keys K --writes N --conflict-rate P --seed S
      DIR/region-{eu,us,ap}.jsonl: each region's writes in its own order, as
      file-source envelopes with a "vv" member. A write sees every earlier
      write of the key (a vector dominating all heads) with probability
      1 - P, otherwise only its own region's earlier writes (concurrent).
  regions.py replica DIR SEED OUT
      all three streams, 10% of the lines twice, in a random order (SEED).
  regions.py expect DIR STRATEGY [REGION...]
      the visible documents the heads give under STRATEGY, canonical dump
      (key TAB deleted TAB doc with sorted members), computed here from the
      definition: an oracle independent of the sinks.
  regions.py open-keys DIR
      the keys left with more than one head, one a line.
  regions.py canon < "key|deleted|doc" lines
      the same canonical dump from a sink's rows.
  regions.py mongo-rows docs|heads|open|resolved < mongo-export --raw lines
      a MongoDB collection's documents as those rows.
"""
import json
import random
import sys
from pathlib import Path

REGIONS = ["eu", "us", "ap"]


def dominates(a, b):
    """a >= b everywhere and a != b."""
    keys = set(a) | set(b)
    return all(a.get(k, 0) >= b.get(k, 0) for k in keys) and a != b


def gen(out, keys, writes, rate, seed):
    rnd = random.Random(seed)
    skew = {r: rnd.randint(-40, 40) for r in REGIONS}
    versions = {}  # key -> list of writes
    streams = {r: [] for r in REGIONS}
    seq = {r: 0 for r in REGIONS}
    for step in range(writes):
        region = rnd.choice(REGIONS)
        key = "k%04d" % rnd.randrange(keys)
        seen = versions.setdefault(key, [])
        if rnd.random() >= rate:
            base = [v for v in seen]
        else:
            base = [v for v in seen if v["origin"] == region]
        vv = {}
        for v in base:
            for r, c in v["vv"].items():
                vv[r] = max(vv.get(r, 0), c)
        vv[region] = vv.get(region, 0) + 1
        # The document the writer starts from: the newest it saw.
        doc = {}
        live = [v for v in base if v["value"] is not None]
        if live:
            doc = dict(max(live, key=lambda v: (v["ts_ms"], v["origin"], v["seq"]))["value"])
        seq[region] += 1
        delete = rnd.random() < 0.06 and seen
        if not delete:
            doc["handle"] = key
            doc["f%d" % rnd.randrange(5)] = "%s-%d" % (region, seq[region])
            doc["by"] = region
        v = {"key": key, "op": "delete" if delete else "upsert", "ts_ms": 1_700_000_000_000 + step * 10 + skew[region],
             "origin": region, "seq": seq[region], "vv": dict(sorted(vv.items())),
             "value": None if delete else doc}
        seen.append(v)
        streams[region].append(v)
    out.mkdir(parents=True, exist_ok=True)
    for r in REGIONS:
        with open(out / ("region-%s.jsonl" % r), "w") as f:
            for v in streams[r]:
                f.write(json.dumps(v, separators=(",", ":")) + "\n")


def load(d):
    per_key = {}
    for r in REGIONS:
        for line in open(Path(d) / ("region-%s.jsonl" % r)):
            v = json.loads(line)
            per_key.setdefault(v["key"], []).append(v)
    return per_key


def heads_of(versions):
    return [v for v in versions if not any(dominates(w["vv"], v["vv"]) for w in versions)]


def lww(v):
    return (v["ts_ms"], v["origin"].encode(), v["seq"])


def visible(heads, strategy, regions):
    heads = sorted(heads, key=lww, reverse=True)
    show = heads[0]
    if strategy == "region-priority":
        rank = lambda v: regions.index(v["origin"]) if v["origin"] in regions else len(regions)
        show = min(heads, key=lambda v: (rank(v), heads.index(v)))
    if show["op"] == "delete":
        return None
    if strategy != "merge" or len(heads) == 1:
        return show["value"]
    doc = {}
    for v in heads:
        if v["op"] == "delete":
            continue
        for name, value in v["value"].items():
            doc.setdefault(name, value)
    return doc


def canon_doc(doc):
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "gen":
        opts = dict(zip(args[1::2], args[2::2]))
        gen(Path(args[0]), int(opts["--keys"]), int(opts["--writes"]), float(opts["--conflict-rate"]),
            int(opts["--seed"]))
    elif cmd == "replica":
        rnd = random.Random(int(args[1]))
        lines = []
        for r in REGIONS:
            lines += open(Path(args[0]) / ("region-%s.jsonl" % r)).read().splitlines()
        lines += rnd.sample(lines, len(lines) // 10)
        rnd.shuffle(lines)
        Path(args[2]).write_text("\n".join(lines) + "\n")
    elif cmd == "expect":
        for key, versions in sorted(load(args[0]).items()):
            doc = visible(heads_of(versions), args[1], args[2:])
            print("%s\t%d\t%s" % (key, doc is None, "" if doc is None else canon_doc(doc)))
    elif cmd == "open-keys":
        for key, versions in sorted(load(args[0]).items()):
            if len(heads_of(versions)) > 1:
                print(key)
    elif cmd == "canon":
        rows = []
        for line in sys.stdin.read().splitlines():
            key, deleted, doc = line.split("|", 2)
            gone = deleted in ("1", "t", "true")
            rows.append("%s\t%d\t%s" % (key, gone, "" if gone else canon_doc(json.loads(doc))))
        print("\n".join(sorted(rows)))
    elif cmd == "mongo-rows":
        # mongo-export --raw lines as the SQL replicas' rows.
        docs = [json.loads(line) for line in sys.stdin.read().splitlines()]
        for d in docs:
            if args[0] == "docs":
                print("%s|%d|%s" % (d["_id"], d["deleted"], json.dumps(d["doc"], separators=(",", ":"))))
            elif args[0] == "heads":
                print("%s|%s" % (d["_id"], d["heads"]))
            elif args[0] == "open" and d.get("resolved_at") is None:
                print(d["_id"])
        if args[0] == "resolved":
            print(sum(1 for d in docs if d.get("resolved_at") is not None))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
