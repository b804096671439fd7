#!/usr/bin/env python3
"""Checks of what the MySQL sink stored, from dumps the tests take with the
mariadb client (JSON lines). Each subcommand exits 1 naming what differs.

  state EXPECTED DUMP   live rows {key, ts_ms, origin, seq, value} == rdapgen --expected
  log INPUT DUMP        append table rows {key, deleted, ts_ms, origin, seq, value,
                        stream, offset}: every envelope of INPUT exactly once
"""
import collections
import json
import sys


def die(msg):
    print("check: " + msg, file=sys.stderr)
    sys.exit(1)


def canon(v):
    if isinstance(v, str):  # a server that hands the document back as a string
        v = json.loads(v)
    return json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def state(expected_path, dump_path):
    want = {e["key"]: (e["ts_ms"], e["origin"], e["seq"], canon(e["value"])) for e in lines(expected_path)}
    got = {e["key"]: (e["ts_ms"], e["origin"], e["seq"], canon(e["value"])) for e in lines(dump_path)}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    if missing or extra or differ:
        die("%d keys expected, %d live: %d missing %s, %d extra %s, %d differ %s" % (
            len(want), len(got), len(missing), missing[:3], len(extra), extra[:3], len(differ), differ[:3]))
    if len(want) < 100:
        die("only %d keys expected: too small to prove anything" % len(want))
    print("check: %d live keys match the expected state" % len(got), file=sys.stderr)


def log(input_path, dump_path):
    want = collections.Counter()
    for e in lines(input_path):
        doc = canon(e["value"]) if e["op"] == "upsert" else None
        want[(e["key"], e["op"] == "delete", e["ts_ms"], e["origin"], e["seq"], doc)] += 1
    got = collections.Counter()
    positions = collections.Counter()
    for r in lines(dump_path):
        doc = canon(r["value"]) if r["value"] is not None else None
        got[(r["key"], bool(r["deleted"]), r["ts_ms"], r["origin"], r["seq"], doc)] += 1
        positions[(r["stream"], r["offset"])] += 1
    twice = [p for p, n in positions.items() if n > 1]
    if twice:
        die("%d source positions stored more than once, e.g. %s" % (len(twice), twice[:3]))
    lost, extra = want - got, got - want
    if lost or extra:
        die("%d changes in, %d rows: %d lost, %d extra" % (sum(want.values()), sum(got.values()),
                                                           sum(lost.values()), sum(extra.values())))
    print("check: %d changes stored exactly once" % sum(got.values()), file=sys.stderr)


if len(sys.argv) == 4 and sys.argv[1] in ("state", "log"):
    (state if sys.argv[1] == "state" else log)(sys.argv[2], sys.argv[3])
else:
    die(__doc__)
