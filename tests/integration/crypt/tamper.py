#!/usr/bin/env python3
"""Tampered copies of sealed records, for tamper.sh.

tamper.py whole SEALED OUT: SEALED is the file sink's envelope output of
8 records sealed whole; writes rdapgen-style change lines (key, op, ts_ms,
origin, seq, value) where record i is changed as CASES[i] says, and prints
"KEY EXPECTED-REASON" (or "KEY ok") per record on stdout.
tamper.py paths SEALED OUT: the same for records whose entities'
vcardArrays were sealed one by one: record 0 intact, record 1 with the
first two entities' payloads swapped (moved to another path).
"""
import base64
import json
import sys


def flip(b64):
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def change_line(rec, value):
    v = rec["version"]
    return json.dumps({"key": rec["key"], "op": "upsert", "ts_ms": v["ts_ms"], "origin": v["origin"],
                       "seq": v["seq"], "value": value}, separators=(",", ":"))


def main():
    mode, sealed, out = sys.argv[1:4]
    recs = [json.loads(line) for line in open(sealed)]
    lines, expect = [], []
    if mode == "whole":
        if len(recs) != 8:
            sys.exit(f"expected 8 sealed records, got {len(recs)}")
        for i, rec in enumerate(recs):
            env = dict(rec["value"])
            reason = "authentication failed"
            if i == 1:
                env["data"] = flip(env["data"])
            elif i == 2:
                env["tag"] = flip(env["tag"])
            elif i == 3:
                env["iv"] = flip(env["iv"])
            elif i == 4:
                env["kid"] = "k9"
                reason = 'unknown key id "k9"'
            elif i == 5:
                env["kid"] = "k1"  # sealed with k2, the newest
                reason = "authentication failed with key k1"
            elif i == 6:
                env = dict(recs[7]["value"])  # another record's payload
            else:
                reason = "ok"
            lines.append(change_line(rec, env))
            expect.append(f"{rec['key']}\t{reason}")
    else:
        for i, rec in enumerate(recs[:2]):
            doc = json.loads(json.dumps(rec["value"]))
            reason = "ok"
            if i == 1:
                ents = doc["entities"]
                if len(ents) < 2:
                    sys.exit("record 1 needs two entities")
                ents[0]["vcardArray"], ents[1]["vcardArray"] = ents[1]["vcardArray"], ents[0]["vcardArray"]
                reason = "$.entities[0].vcardArray: authentication failed"
            lines.append(change_line(rec, doc))
            expect.append(f"{rec['key']}\t{reason}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(expect))


main()
