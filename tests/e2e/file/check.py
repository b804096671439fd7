#!/usr/bin/env python3
"""Output checks for the file e2e tests. Each subcommand exits 1 with a
message naming what differs.

  values-in-order INPUT OUTPUT     envelope values == input objects, same order
  exactly-once INPUT OUTPUT        every input object exactly once (any order)
  prefix INPUT OUTPUT              output == the first N input objects, in order
  dead-letters DLQ INPUT LINE...   exactly these input lines dead-lettered, with FILE:LINE reasons and raw bytes
  lines FILE N                     FILE has exactly N lines
"""
import base64
import collections
import json
import sys


def die(msg):
    print("check: " + msg, file=sys.stderr)
    sys.exit(1)


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        die("%s ends with a torn line" % path)
    return data.split(b"\n")[:-1] if data else []


def objects(path):
    return [json.loads(l) for l in read_lines(path) if l.strip()]


def key_of(doc):
    return doc.get("handle") or doc.get("ldhName")


def canon(v):
    return json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def envelopes(path):
    out = objects(path)
    for i, e in enumerate(out):
        if set(("key", "op", "version", "position", "value")) - set(e):
            die("%s line %d is not an envelope: %s" % (path, i + 1, canon(e)[:200]))
        if e.get("error"):
            die("%s line %d carries an error: %s" % (path, i + 1, e["error"]))
    return out


def values_in_order(inp, outp):
    want, got = objects(inp), envelopes(outp)
    if len(want) != len(got):
        die("%d records in, %d out" % (len(want), len(got)))
    for i, (w, g) in enumerate(zip(want, got)):
        if g["value"] != w:
            die("record %d: value differs: %s vs %s" % (i + 1, canon(g["value"])[:200], canon(w)[:200]))
        if g["key"] != key_of(w):
            die("record %d: key %r, expected %r" % (i + 1, g["key"], key_of(w)))
    print("check: %d records, same values in the same order" % len(got))


def exactly_once(inp, outp):
    want = collections.Counter((key_of(d), canon(d)) for d in objects(inp))
    got = collections.Counter((e["key"], canon(e["value"])) for e in envelopes(outp))
    missing, extra = want - got, got - want
    if missing or extra:
        dups = sum(n - 1 for n in got.values() if n > 1)
        die("%d records missing, %d extra (%d duplicates); e.g. missing %s extra %s" % (
            sum(missing.values()), sum(extra.values()), dups,
            next(iter(missing), ("",))[0], next(iter(extra), ("",))[0]))
    print("check: %d records, each exactly once" % sum(got.values()))


def prefix(inp, outp):
    want, got = objects(inp), envelopes(outp)
    if len(got) > len(want):
        die("%d records out of %d in" % (len(got), len(want)))
    for i, g in enumerate(got):
        if g["value"] != want[i]:
            die("record %d is not input record %d (duplicate or gap)" % (i + 1, i + 1))
    print("check: output is the first %d of %d input records, in order" % (len(got), len(want)))


def dead_letters(dlq, inp, lines):
    raw_lines = read_lines(inp)
    got = objects(dlq)
    want = [int(x) for x in lines]
    if len(got) != len(want):
        die("%d dead letters, expected %d" % (len(got), len(want)))
    for d, line in zip(got, want):
        prefix_ = "%s:%d: " % (inp, line)
        if not d.get("error", "").startswith(prefix_):
            die("dead letter %r does not start with %r" % (d.get("error"), prefix_))
        if "raw" not in d:
            die("dead letter of line %d has no raw bytes" % line)
        raw = base64.b64decode(d["raw"]) if d.get("raw_encoding") == "base64" else d["raw"].encode()
        expect = raw_lines[line - 1]
        if raw != expect and not (len(raw) == 4096 and expect.startswith(raw)):
            die("dead letter of line %d: raw bytes differ" % line)
    print("check: %d dead letters with FILE:LINE reasons and raw bytes" % len(got))


def count_lines(path, n):
    got = len(read_lines(path))
    if got != int(n):
        die("%s has %d lines, expected %s" % (path, got, n))
    print("check: %s has %s lines" % (path, n))


cmd, args = sys.argv[1], sys.argv[2:]
{"values-in-order": values_in_order, "exactly-once": exactly_once, "prefix": prefix,
 "dead-letters": lambda d, i, *l: dead_letters(d, i, l), "lines": count_lines}[cmd](*args)
