#!/usr/bin/env python3
"""A change stream for the delta transform's tests and benchmark.

  delta_stream.py OUT EVENTS KEYS SEED [REPEAT] [DELETES] [SIZE] [--expected FILE]

Writes EVENTS envelope lines (the file source's change format) over KEYS
keys: the first event of a key brings a new document; after that an event
repeats the key's last document with probability REPEAT (default 0.9),
deletes the key with probability DELETES (default 0), and otherwise changes
one to three members of it. Every event has a distinct seq (its index), so
a sink's output names which events were delivered. --expected writes the
seqs of the events that delta must deliver (every change and delete, no
repeat), one per line.
"""
import json
import random
import sys


def new_doc(rng, key, size):
    return {
        "objectClassName": "domain", "handle": key, "ldhName": key.lower() + ".example",
        "status": ["active"], "port43": "whois.example",
        "nameservers": [{"ldhName": "ns%d.example" % i} for i in range(1, 3)],
        "events": [{"eventAction": "registration", "eventDate": "2020-01-0%dT00:00:00Z" % rng.randint(1, 9)}],
        "remarks": [{"description": ["x" * rng.randint(size // 3, size)]}],
        "counter": 0, "note": "n0", "secureDNS": {"delegationSigned": False},
    }


def change(rng, old):
    doc = json.loads(json.dumps(old))
    for member in rng.sample(["counter", "note", "status", "secureDNS", "port43"], rng.randint(1, 3)):
        if member == "counter":
            doc["counter"] += 1
        elif member == "note":
            doc["note"] = "n%d" % rng.randint(0, 10 ** 9)
        elif member == "status":
            doc["status"] = rng.choice([["active"], ["client hold"], ["active", "client transfer prohibited"]])
        elif member == "secureDNS":
            doc["secureDNS"] = {"delegationSigned": not doc["secureDNS"]["delegationSigned"]}
        else:
            doc["port43"] = "whois%d.example" % rng.randint(0, 99)
    if doc == old:  # a member got the value it had: still a change
        doc["counter"] += 1
    return doc


def main(argv):
    expected_path = None
    if "--expected" in argv:
        i = argv.index("--expected")
        expected_path = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    out, events, keys, seed = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    repeat = float(argv[4]) if len(argv) > 4 else 0.9
    deletes = float(argv[5]) if len(argv) > 5 else 0.0
    size = int(argv[6]) if len(argv) > 6 else 600
    rng = random.Random(seed)
    last = {}
    expected = []
    with open(out, "w") as f:
        for seq in range(1, events + 1):
            key = "K%05d" % rng.randrange(keys)
            op, value = "upsert", None
            roll = rng.random()
            if key not in last:
                value = new_doc(rng, key, size)
                expected.append(seq)
            elif roll < deletes:
                op = "delete"
                expected.append(seq)
            elif roll < deletes + repeat:
                value = last[key]
            else:
                value = change(rng, last[key])
                expected.append(seq)
            if op == "delete":
                last.pop(key, None)
            else:
                last[key] = value
            f.write(json.dumps({"key": key, "op": op, "ts_ms": 1700000000000 + seq, "origin": "gen", "seq": seq,
                                "value": value}, separators=(",", ":")) + "\n")
    if expected_path:
        with open(expected_path, "w") as f:
            f.write("".join("%d\n" % s for s in expected))


if __name__ == "__main__":
    main(sys.argv[1:])
