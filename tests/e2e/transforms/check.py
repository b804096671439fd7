#!/usr/bin/env python3
"""Checks of transform outputs for the e2e scripts (exit 1 with FAIL: on a failure).

  check.py count INPUT...                      number of records the file source makes of the inputs
  check.py accounted N OUT DEAD                every input is in the output or the dead letters
  check.py unified OUT POLICY.yaml             every output record: unified shape + metadata
  check.py dead DEAD [--transform-value null]  dead letters carry a reason naming the place
  check.py rdap OUT                            raw RDAP output: valid redacted entries and conformance
  check.py dropraw DEAD COPY                   COPY = DEAD without the raw bytes of source-stage letters
"""
import datetime
import json
import re
import sys

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
METHODS = ("removal", "emptyValue", "partialValue", "replacementValue")
CLASSES = ("personal", "business-sensitive", "public")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def lines(path):
    with open(path, "rb") as f:
        for raw in f:
            raw = raw.strip()
            if raw:
                yield json.loads(raw)


def count(paths):
    n = 0
    for p in paths:
        if p.endswith(".json"):
            n += 1
        else:
            n += sum(1 for line in open(p, "rb") if line.strip())
    return n


def retention_days(policy_path):
    """personal / business-sensitive / public days, read without a YAML library."""
    days, inside = {}, False
    for line in open(policy_path):
        if line.startswith("retention_days:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^\s+([a-z-]+):\s*(\d+)", line)
            if not m:
                break
            days[m.group(1)] = int(m.group(2))
    return days


def iso(ms):
    return datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unified(out, policy_path):
    days = retention_days(policy_path)
    if set(days) != set(CLASSES):
        fail("cannot read retention_days of %s: %r" % (policy_path, days))
    now = datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000
    seen = {c: 0 for c in CLASSES}
    deletes = 0
    for i, rec in enumerate(lines(out), 1):
        where = "%s:%d (key %s)" % (out, i, rec.get("key"))
        if rec.get("op") == "delete":
            if rec.get("value") is not None:
                fail(where + ": a delete with a value")
            deletes += 1
            continue
        value, headers = rec.get("value"), rec.get("headers") or {}
        meta = value.get("rdapsync") if isinstance(value, dict) else None
        if not isinstance(meta, dict) or meta.get("schema") != "rdapsync.unified/1":
            fail(where + ": no rdapsync.schema stamp")
        if value.get("object_class") not in ("domain", "entity", "nameserver", "ip_network", "autnum"):
            fail(where + ": object_class %r" % value.get("object_class"))
        c = meta.get("classification")
        if c not in CLASSES or headers.get("rdapsync.classification") != c:
            fail(where + ": classification %r, header %r" % (c, headers.get("rdapsync.classification")))
        until = meta.get("retention_until")
        if not until or not RFC3339.match(until) or headers.get("rdapsync.retention_until") != until:
            fail(where + ": retention_until %r, header %r" % (until, headers.get("rdapsync.retention_until")))
        ts = rec["version"]["ts_ms"]
        if ts > 0:
            expected = iso(ts + days[c] * 86400000)
            if until != expected:
                fail(where + ": retention_until %s, expected %s (event time %d + %d days)" % (until, expected, ts, days[c]))
        else:
            low, high = iso(now - 86400000), iso(now + (days[c] + 1) * 86400000)
            if not (low <= until <= high):
                fail(where + ": retention_until %s is not now + %d days" % (until, days[c]))
        if "redacted" in value:
            check_entries(where, value["redacted"], value)
        seen[c] += 1
    total = sum(seen.values())
    if total == 0:
        fail(out + ": no records")
    print("ok: %d unified records (%s), %d deletes" % (total, ", ".join("%d %s" % (seen[c], c) for c in CLASSES), deletes))


def resolve(doc, path):
    """A concrete JSONPath ($.a.b[1]['x'], [*] for every item) in doc: the
    values it names; KeyError / IndexError when it names nothing."""
    nodes = [doc]
    for m in re.finditer(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\[(\*)\]", path[1:]):
        if m.group(1) is not None:
            nodes = [n[m.group(1)] for n in nodes]
        elif m.group(2) is not None:
            nodes = [n[int(m.group(2))] for n in nodes]
        elif m.group(3) is not None:
            nodes = [n[re.sub(r"\\(.)", r"\1", m.group(3))] for n in nodes]
        else:
            nodes = [item for n in nodes for item in n]
    if not nodes:
        raise IndexError(path)
    return nodes


def flat_empty(v):
    """An emptied structured value: every string in it is empty."""
    if isinstance(v, list):
        return all(flat_empty(x) for x in v)
    return v == ""


def check_entries(where, entries, doc):
    if not isinstance(entries, list):
        fail(where + ": redacted is not an array")
    for e in entries:
        name = e.get("name", {})
        if not (isinstance(name, dict) and (isinstance(name.get("type"), str) or isinstance(name.get("description"), str))):
            fail(where + ": redacted entry without a name: %r" % e)
        method = e.get("method", "removal")
        if method not in METHODS:
            fail(where + ": method %r" % method)
        if e.get("pathLang", "jsonpath") != "jsonpath":
            fail(where + ": pathLang %r" % e.get("pathLang"))
        pre, post = e.get("prePath"), e.get("postPath")
        if method == "removal" and post is not None:
            fail(where + ": a removal with a postPath: %r" % e)
        if method != "removal" and post is None and pre is None:
            fail(where + ": %s without a path: %r" % (method, e))
        if post is not None and post.startswith("$") and "?" not in post:
            try:
                values = resolve(doc, post)
            except (KeyError, IndexError, TypeError):
                fail(where + ": postPath %s is not in the output" % post)
            if method == "emptyValue" and any(v != "" and not flat_empty(v) for v in values):
                fail(where + ": emptyValue at %s holds %r" % (post, values))


def rdap(out):
    n = entries = 0
    for i, rec in enumerate(lines(out), 1):
        where = "%s:%d (key %s)" % (out, i, rec.get("key"))
        doc = rec.get("value")
        if rec.get("op") == "delete":
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("objectClassName"), str):
            fail(where + ": not an RDAP object")
        if "rdapsync" in doc:
            fail(where + ": a foreign member in RDAP output")
        if doc.get("redacted"):
            if "redacted" not in (doc.get("rdapConformance") or []):
                fail(where + ": redacted entries but no \"redacted\" in rdapConformance")
            check_entries(where, doc["redacted"], doc)
            entries += len(doc["redacted"])
        notes = [x for x in doc.get("notices", []) if x.get("title") == "rdapsync data classification"]
        if len(notes) != 1:
            fail(where + ": %d classification notices" % len(notes))
        n += 1
    if n == 0:
        fail(out + ": no records")
    print("ok: %d RDAP records, %d redacted entries, all valid" % (n, entries))


def dead(path, transform_value_null):
    stages = {}
    for i, rec in enumerate(lines(path), 1):
        where = "%s:%d" % (path, i)
        headers = rec.get("headers") or {}
        stage, reason = headers.get("rdapsync.error.stage"), headers.get("rdapsync.error.reason")
        if not reason or reason != rec.get("error"):
            fail(where + ": no reason")
        if stage == "transform":
            if not reason.startswith("$"):
                fail(where + ": a transform's reason does not start with its JSON path: %r" % reason)
            if transform_value_null and rec.get("value") is not None:
                fail(where + ": the dead letter of a transform error still holds the document")
        elif stage == "source":
            if ":" not in reason:
                fail(where + ": a source reason without file:line: %r" % reason)
        else:
            fail(where + ": stage %r" % stage)
        short = reason if len(reason) <= 150 else reason[:60] + " ... " + reason[-80:]
        stages.setdefault(stage, []).append("%s %s" % (headers.get("rdapsync.error.plugin"), short))
    for stage, reasons in sorted(stages.items()):
        print("ok: %d %s dead letters" % (len(reasons), stage))
        for r in reasons:
            print("   " + r)
    return stages


def dropraw(path, copy):
    dropped = 0
    with open(copy, "w") as out:
        for rec in lines(path):
            if (rec.get("headers") or {}).get("rdapsync.error.stage") == "source" and "raw" in rec:
                dropped += len(rec.pop("raw"))
                rec.pop("raw_encoding", None)
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print("ok: left out %d bytes of source-stage raw input" % dropped)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "count":
        print(count(argv[2:]))
    elif cmd == "accounted":
        n, out, dl = int(argv[2]), sum(1 for _ in lines(argv[3])), sum(1 for _ in lines(argv[4]))
        if out + dl != n:
            fail("%d inputs, but %d outputs + %d dead letters" % (n, out, dl))
        print("ok: %d inputs = %d outputs + %d dead letters" % (n, out, dl))
    elif cmd == "unified":
        unified(argv[2], argv[3])
    elif cmd == "dead":
        dead(argv[2], "--transform-value" in argv)
    elif cmd == "rdap":
        rdap(argv[2])
    elif cmd == "dropraw":
        dropraw(argv[2], argv[3])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
