#!/usr/bin/env python3
"""Checks on what the file sink wrote for the rdap tests.

  check.py once OUT.jsonl N         every one of N keys exactly once, all upserts
  check.py after OUT.jsonl SKIP     the records after the first SKIP lines, as
                                    "op key" lines, sorted
  check.py positions OUT.jsonl      offsets strictly increase (no record twice)
"""
import json
import sys


def records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    what, path = sys.argv[1], sys.argv[2]
    recs = records(path)
    if what == "once":
        n = int(sys.argv[3])
        keys = [r["key"] for r in recs]
        ops = {r["op"] for r in recs}
        dups = len(keys) - len(set(keys))
        if len(set(keys)) != n or dups or ops != {"upsert"}:
            print("expected %d keys once each as upserts: %d records, %d distinct keys, %d repeated, ops %s"
                  % (n, len(keys), len(set(keys)), dups, sorted(ops)))
            return 1
        return 0
    if what == "after":
        for line in sorted("%s %s" % (r["op"], r["key"]) for r in recs[int(sys.argv[3]):]):
            print(line)
        return 0
    if what == "positions":
        offs = [r["position"]["offset"] for r in recs]
        bad = [i for i in range(1, len(offs)) if offs[i] <= offs[i - 1]]
        if bad:
            print("offsets do not increase at lines %s" % bad[:10])
            return 1
        return 0
    print("unknown check %s" % what)
    return 2


sys.exit(main())
