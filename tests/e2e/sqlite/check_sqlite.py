#!/usr/bin/env python3
"""Checks of what the SQLite sink stored, for the sqlite e2e tests. Each
subcommand exits 1 with a message naming what differs.

  state DB TABLE EXPECTED   live rows (key, document, version) == rdapgen --expected
  log DB TABLE INPUT        append table: every envelope of INPUT exactly once
                            (no loss, no duplicate), with its version and document
  count DB SQL N            SQL's single value == N
"""
import collections
import json
import sqlite3
import sys


def die(msg):
    print("check: " + msg, file=sys.stderr)
    sys.exit(1)


def canon(v):
    return json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def connect(path):
    # Read-only: the check must not change what it looks at.
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True)


def quote(name):
    return '"%s"' % name.replace('"', '""')


def state(db, table, expected_path):
    want = {}
    with open(expected_path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            want[e["key"]] = (e["ts_ms"], e["origin"], e["seq"], canon(e["value"]))
    got = {}
    for key, doc, ts, origin, seq in connect(db).execute(
            "SELECT key, doc, event_time_ms, origin, seq FROM %s WHERE NOT deleted" % quote(table)):
        got[key] = (ts, origin, seq, canon(json.loads(doc)))
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    if missing or extra or differ:
        die("%d keys expected, %d live: %d missing %s, %d extra %s, %d differ %s" % (
            len(want), len(got), len(missing), missing[:3], len(extra), extra[:3], len(differ), differ[:3]))
    if len(want) < 100:
        die("only %d keys expected: the test data is too small to prove anything" % len(want))
    print("check: %d live keys match the expected state" % len(got))


def log(db, table, input_path):
    want = collections.Counter()
    with open(input_path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            doc = canon(e["value"]) if e["op"] == "upsert" else None
            want[(e["key"], e["op"] == "delete", e["ts_ms"], e["origin"], e["seq"], doc)] += 1
    got = collections.Counter()
    offsets = collections.Counter()
    for key, deleted, ts, origin, seq, doc, stream, offset in connect(db).execute(
            "SELECT key, deleted, event_time_ms, origin, seq, doc, src_stream, src_offset FROM %s" % quote(table)):
        got[(key, bool(deleted), ts, origin, seq, canon(json.loads(doc)) if doc is not None else None)] += 1
        offsets[(stream, offset)] += 1
    twice = [p for p, n in offsets.items() if n > 1]
    if twice:
        die("%d source positions stored more than once, e.g. %s" % (len(twice), twice[:3]))
    lost = want - got
    extra = got - want
    if lost or extra:
        die("%d changes in, %d rows: %d lost, %d extra" % (sum(want.values()), sum(got.values()),
                                                           sum(lost.values()), sum(extra.values())))
    print("check: %d changes stored exactly once" % sum(got.values()))


def count(db, sql, n):
    value = connect(db).execute(sql).fetchone()[0]
    if str(value) != n:
        die("%s gave %s, expected %s" % (sql, value, n))


def main():
    if len(sys.argv) < 2:
        die(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "state" and len(args) == 3:
        state(*args)
    elif cmd == "log" and len(args) == 3:
        log(*args)
    elif cmd == "count" and len(args) == 3:
        count(*args)
    else:
        die(__doc__)


if __name__ == "__main__":
    main()
