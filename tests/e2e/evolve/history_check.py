#!/usr/bin/env python3
"""Checks a history table export against the changes that were sent.

  history_check.py CHANGES EXPORT

CHANGES: the envelope JSON lines the pipeline read (rdapgen --format
envelope). EXPORT: one history row per line, tab-separated: key, valid_from,
origin, seq, valid_to (empty or NULL while current), deleted (0/1/t/f), doc
(JSON, empty or NULL for a delete). The table must hold every distinct
version exactly once (replays add nothing), each upsert with its document,
each delete as a deleted row, and valid_to must be the event time of the
key's next version (NULL for the newest).
"""
import json
import sys


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def null(text):
    return text in ("", "NULL", "\\N")


def main(changes_path, export_path):
    want = {}
    with open(changes_path) as f:
        for line in f:
            if not line.strip():
                continue
            c = json.loads(line)
            version = (c["key"], int(c["ts_ms"]), c.get("origin") or "", int(c["seq"]))
            want[version] = (c["op"] == "delete", c.get("value"))
    by_key = {}
    for (key, ts, origin, seq) in want:
        by_key.setdefault(key, []).append((ts, origin.encode(), seq))
    valid_to = {}
    for key, versions in by_key.items():
        versions.sort()
        for i, (ts, origin, seq) in enumerate(versions):
            valid_to[(key, ts, origin.decode(), seq)] = versions[i + 1][0] if i + 1 < len(versions) else None
    got = {}
    with open(export_path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != 7:
                fail("%s:%d: expected 7 columns, got %d" % (export_path, n, len(parts)))
            key, vf, origin, seq, vt, deleted, doc = parts
            version = (key, int(vf), origin, int(seq))
            if version in got:
                fail("%s:%d: version %r twice in the history table" % (export_path, n, version))
            got[version] = (None if null(vt) else int(vt), deleted in ("1", "t", "true"),
                            None if null(doc) else json.loads(doc))
    missing = set(want) - set(got)
    extra = set(got) - set(want)
    if missing:
        fail("%d versions missing from the history table, e.g. %r" % (len(missing), sorted(missing)[:3]))
    if extra:
        fail("%d versions in the history table that were never sent, e.g. %r" % (len(extra), sorted(extra)[:3]))
    deletes = closed = 0
    for version, (vt, deleted, doc) in got.items():
        want_deleted, want_doc = want[version]
        if deleted != want_deleted:
            fail("%r: deleted is %r, sent %s" % (version, deleted, "a delete" if want_deleted else "an upsert"))
        if not deleted and doc != want_doc:
            fail("%r: the document differs from the one sent" % (version,))
        if vt != valid_to[version]:
            fail("%r: valid_to %r, expected %r (the next version's event time)" % (version, vt, valid_to[version]))
        deletes += deleted
        closed += vt is not None
    print("ok: %d versions of %d keys, %d deletes, %d closed intervals, %d current" %
          (len(got), len(by_key), deletes, closed, len(got) - closed))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
