#!/usr/bin/env python3
"""Reads the spans the collector's file exporter wrote (one OTLP/JSON
ExportTraceServiceRequest per line) and checks them for the otel tests.

  spans.py count FILE PIPELINE NAME [--sum-records]
      prints how many spans called NAME the pipeline has (or the sum of
      their rdapsync.records).
  spans.py stages FILE PIPELINE --records N --source P --sink P [--transform P]...
          [--trace HEX --parent HEX] [--service NAME]
      every batch span has exactly one poll, one transform per transform
      plugin, at least one sink.write, one sink.flush and one
      checkpoint.commit as children, in its trace, with the pipeline, task,
      plugin and record count attributes; the batches' records add up to N;
      with --trace/--parent every batch continues that context.
  spans.py records FILE PIPELINE --expect N [--trace HEX --parent HEX]
      prints "key<TAB>trace<TAB>span<TAB>parent" for the pipeline's record
      spans; fails unless there are N of them (with --trace/--parent, N of
      them continue that context).
Exits 1 with a message naming what is wrong.
"""
import argparse
import json
import sys


def fail(msg):
    print("spans.py: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def attr_value(v):
    for kind in ("stringValue", "intValue", "boolValue", "doubleValue"):
        if kind in v:
            return int(v[kind]) if kind == "intValue" else v[kind]
    return None


def load(path, pipeline):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            doc = json.loads(line)
            for rs in doc.get("resourceSpans", []):
                resource = {a["key"]: attr_value(a["value"]) for a in rs.get("resource", {}).get("attributes", [])}
                for ss in rs.get("scopeSpans", []):
                    for s in ss.get("spans", []):
                        attrs = {a["key"]: attr_value(a["value"]) for a in s.get("attributes", [])}
                        if attrs.get("rdapsync.pipeline") != pipeline:
                            continue
                        out.append({
                            "name": s["name"], "trace": s["traceId"], "span": s["spanId"],
                            "parent": s.get("parentSpanId", ""), "attrs": attrs,
                            "start": int(s["startTimeUnixNano"]), "end": int(s["endTimeUnixNano"]),
                            "status": s.get("status", {}).get("code", 0), "service": resource.get("service.name"),
                        })
    return out


def cmd_count(args):
    spans = [s for s in load(args.file, args.pipeline) if s["name"] == args.name]
    if args.sum_records:
        print(sum(s["attrs"].get("rdapsync.records", 0) for s in spans))
    else:
        print(len(spans))


def cmd_stages(args):
    spans = load(args.file, args.pipeline)
    batches = [s for s in spans if s["name"] == "batch"]
    if not batches:
        fail("no batch span for pipeline %s" % args.pipeline)
    by_parent = {}
    for s in spans:
        by_parent.setdefault(s["parent"], []).append(s)
    total = 0
    for b in batches:
        where = "batch span %s" % b["span"]
        if args.trace and (b["trace"] != args.trace or b["parent"] != args.parent):
            fail("%s is in trace %s under %s, expected to continue %s / %s" %
                 (where, b["trace"], b["parent"] or "(root)", args.trace, args.parent))
        if not args.trace and b["parent"]:
            fail("%s has a parent %s; expected a root" % (where, b["parent"]))
        if b["attrs"].get("rdapsync.task") != 0:
            fail("%s: rdapsync.task is %r, expected 0" % (where, b["attrs"].get("rdapsync.task")))
        if args.service and b["service"] != args.service:
            fail("%s: service.name is %r, expected %r" % (where, b["service"], args.service))
        records = b["attrs"].get("rdapsync.records")
        if not isinstance(records, int) or records <= 0:
            fail("%s: rdapsync.records is %r" % (where, records))
        total += records
        children = [c for c in by_parent.get(b["span"], []) if c["name"] != "record"]
        expected = [("poll", args.source, "source")] + [("transform", p, "transform") for p in args.transform] + \
                   [("sink.write", args.sink, "sink"), ("sink.flush", args.sink, "sink"),
                    ("checkpoint.commit", args.source, "source")]
        for name, plugin, stage in expected:
            found = [c for c in children if c["name"] == name and c["attrs"].get("rdapsync.plugin") == plugin]
            if not found:
                fail("%s has no %s span of plugin %s among its children: %s" %
                     (where, name, plugin, sorted((c["name"], c["attrs"].get("rdapsync.plugin")) for c in children)))
            for c in found:
                if c["trace"] != b["trace"]:
                    fail("%s span %s is in trace %s, its batch in %s" % (name, c["span"], c["trace"], b["trace"]))
                if c["attrs"].get("rdapsync.stage") != stage or c["attrs"].get("rdapsync.task") != 0:
                    fail("%s span %s: stage %r task %r" % (name, c["span"], c["attrs"].get("rdapsync.stage"),
                                                           c["attrs"].get("rdapsync.task")))
                n = c["attrs"].get("rdapsync.records")
                if name in ("poll", "checkpoint.commit") and n != records:
                    fail("%s span %s counts %r records, its batch %d" % (name, c["span"], n, records))
                if not isinstance(n, int) or n <= 0 or n > records:
                    fail("%s span %s counts %r records (batch: %d)" % (name, c["span"], n, records))
                if c["start"] < b["start"] or c["end"] > b["end"] or c["start"] > c["end"]:
                    fail("%s span %s [%d, %d] is not inside its batch [%d, %d]" %
                         (name, c["span"], c["start"], c["end"], b["start"], b["end"]))
                if c["status"] == 2:
                    fail("%s span %s has status ERROR" % (name, c["span"]))
        for name in ("poll", "sink.flush", "checkpoint.commit"):
            if sum(1 for c in children if c["name"] == name) != 1:
                fail("%s has %d %s spans, expected 1" % (where, sum(1 for c in children if c["name"] == name), name))
    if total != args.records:
        fail("the batch spans count %d records, expected %d" % (total, args.records))
    print("%d batches, %d records, %d spans" % (len(batches), total, len(spans)))


def cmd_records(args):
    spans = [s for s in load(args.file, args.pipeline) if s["name"] == "record"]
    batches = {s["span"]: s for s in load(args.file, args.pipeline) if s["name"] == "batch"}
    for s in spans:
        if not s["attrs"].get("rdapsync.record.key"):
            fail("record span %s has no rdapsync.record.key" % s["span"])
        if "rdapsync.record.offset" not in s["attrs"]:
            fail("record span %s has no rdapsync.record.offset" % s["span"])
        if s["parent"] not in batches and not (args.trace and s["parent"] == args.parent):
            fail("record span %s: parent %s is neither a batch span nor the upstream context" % (s["span"], s["parent"]))
        if s["parent"] in batches and batches[s["parent"]]["trace"] != s["trace"]:
            fail("record span %s is not in its batch's trace" % s["span"])
    chosen = [s for s in spans if s["trace"] == args.trace and s["parent"] == args.parent] if args.trace else spans
    if len(chosen) != args.expect:
        fail("%d record spans%s, expected %d" % (len(chosen), " continue the upstream context" if args.trace else "",
                                                 args.expect))
    for s in spans:
        print("%s\t%s\t%s\t%s" % (s["attrs"]["rdapsync.record.key"], s["trace"], s["span"], s["parent"]))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("count")
    c.add_argument("file")
    c.add_argument("pipeline")
    c.add_argument("name")
    c.add_argument("--sum-records", action="store_true")
    s = sub.add_parser("stages")
    s.add_argument("file")
    s.add_argument("pipeline")
    s.add_argument("--records", type=int, required=True)
    s.add_argument("--source", required=True)
    s.add_argument("--sink", required=True)
    s.add_argument("--transform", action="append", default=[])
    s.add_argument("--trace")
    s.add_argument("--parent")
    s.add_argument("--service")
    r = sub.add_parser("records")
    r.add_argument("file")
    r.add_argument("pipeline")
    r.add_argument("--expect", type=int, required=True)
    r.add_argument("--trace")
    r.add_argument("--parent")
    args = p.parse_args()
    {"count": cmd_count, "stages": cmd_stages, "records": cmd_records}[args.cmd](args)


if __name__ == "__main__":
    main()
