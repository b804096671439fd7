#!/usr/bin/env python3
"""The checks of the multi-region convergence test (convergence.sh), on
rdapgen --regions output (a directory of region-N.jsonl and expected.jsonl).

  regions.py replica DIR SEED OUT
      every region's stream, 10% of the lines twice, in a random order (SEED).
  regions.py expect DIR STRATEGY
      rdapgen's visible documents of STRATEGY as a canonical dump: key TAB
      deleted TAB the document with sorted members.
  regions.py open-keys DIR
      the keys rdapgen left with more than one head, one a line.
  regions.py canon < "key|deleted|doc" lines
      the same canonical dump from a sink's rows.
  regions.py lone-heads < "key|heads" lines
      the lines as they are, but a key's lone head without its document
      (re-serialized): a sink that loads rows stores it so, the others with
      the document, which is the visible row's, compared by canon.
  regions.py mongo-rows docs|heads|open|resolved < mongo-export --raw lines
      a MongoDB collection's documents as those rows.
  regions.py expected-keys DIR
      every key of expected.jsonl, one a line.
  regions.py redis-query PREFIX docs|heads|open|resolved < keys
      the redis-cli commands that read those rows of the Redis sink.
  regions.py redis-rows docs|heads|open|resolved DIR < redis-cli --raw replies
      the replies as those rows.
"""
import json
import random
import sys
from pathlib import Path


def canon_doc(doc):
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def unwrap(v):
    """The MongoDB sink's read-back rule (docs/plugins/sink-mongodb.md): a
    document whose only member is _array is what that member holds."""
    if isinstance(v, dict):
        if list(v) == ["_array"]:
            return unwrap(v["_array"]) if isinstance(v["_array"], list) else {
                k: unwrap(x) for k, x in v["_array"].items()}
        return {k: unwrap(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unwrap(x) for x in v]
    return v


def expected(d):
    for line in open(Path(d) / "expected.jsonl"):
        yield json.loads(line)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "replica":
        rnd = random.Random(int(args[1]))
        lines = []
        for stream in sorted(Path(args[0]).glob("region-*.jsonl")):
            lines += stream.read_text().splitlines()
        lines += rnd.sample(lines, len(lines) // 10)
        rnd.shuffle(lines)
        Path(args[2]).write_text("\n".join(lines) + "\n")
    elif cmd == "expect":
        rows = []
        for k in expected(args[0]):
            doc = k["visible"][args[1]]
            rows.append("%s\t%d\t%s" % (k["key"], doc is None, "" if doc is None else canon_doc(doc)))
        print("\n".join(sorted(rows)))
    elif cmd == "open-keys":
        print("\n".join(sorted(k["key"] for k in expected(args[0]) if len(k["heads"]) > 1)))
    elif cmd == "canon":
        rows = []
        for line in sys.stdin.read().splitlines():
            key, deleted, doc = line.split("|", 2)
            gone = deleted in ("1", "t", "true")
            rows.append("%s\t%d\t%s" % (key, gone, "" if gone else canon_doc(json.loads(doc))))
        print("\n".join(sorted(rows)))
    elif cmd == "lone-heads":
        for line in sys.stdin.read().splitlines():
            key, heads = line.split("|", 1)
            parsed = json.loads(heads)
            if len(parsed) == 1:
                parsed[0].pop("doc", None)
                heads = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            print("%s|%s" % (key, heads))
    elif cmd == "mongo-rows":
        docs = [json.loads(line) for line in sys.stdin.read().splitlines()]
        for d in docs:
            if args[0] == "docs":
                print("%s|%d|%s" % (d["_id"], d["deleted"], json.dumps(unwrap(d["doc"]), separators=(",", ":"))))
            elif args[0] == "heads":
                print("%s|%s" % (d["_id"], d["heads"]))
            elif args[0] == "open" and d.get("resolved_at") is None:
                print(d["_id"])
        if args[0] == "resolved":
            print(sum(1 for d in docs if d.get("resolved_at") is not None))
    elif cmd == "expected-keys":
        print("\n".join(k["key"] for k in expected(args[0])))
    elif cmd == "redis-query":
        quote = lambda b: '"' + b.replace("\\", "\\\\").replace('"', '\\"') + '"'
        keys = sys.stdin.read().split()
        prefix, kind = args[0], args[1]
        if kind == "docs":
            for k in keys:
                print("GET %s" % quote(prefix + k))
                print("EXISTS %s" % quote(prefix + "\\x00v:" + k).replace("\\\\x00", "\\x00"))
        elif kind == "heads":
            for k in keys:
                print("GET %s" % quote(prefix + "\\x00h:" + k).replace("\\\\x00", "\\x00"))
        else:
            print("HGETALL %s" % quote(prefix + "\\x00c:records_conflicts").replace("\\\\x00", "\\x00"))
    elif cmd == "redis-rows":
        kind = args[0]
        lines = sys.stdin.read().split("\n")
        keys = [k["key"] for k in expected(args[1])]
        if kind == "docs":
            for i, k in enumerate(keys):
                doc, exists = lines[2 * i], lines[2 * i + 1]
                if doc:
                    print("%s|0|%s" % (k, doc))
                elif exists == "1":
                    print("%s|1|" % k)
        elif kind == "heads":
            for k, h in zip(keys, lines):
                if h:
                    print("%s|%s" % (k, h))
        else:
            entries = {lines[i]: json.loads(lines[i + 1]) for i in range(0, len(lines) - 1, 2) if lines[i]}
            if kind == "open":
                for k, e in entries.items():
                    if e["resolved_at"] is None:
                        print(k)
            else:
                print(sum(1 for e in entries.values() if e["resolved_at"] is not None))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
