#!/usr/bin/env bash
# Traces from the file source's envelopes: a W3C traceparent in a record's
# "headers" is continued. The batch holding it becomes a child of that
# context, every stage (poll, each transform, sink write, flush,
# checkpoint commit) is a child span of the batch with its attributes,
# the record carrying the header gets a span under the upstream parent,
# the others are sampled (sample_ratio 1: all of them) under the batch;
# and the file sink writes each record's own span as its traceparent.
TEST_NAME=otel_file_envelope
. "$(dirname "$0")/lib.sh"
need_collector

N=40
TP="$(new_traceparent)"
TRACE="$(cut -d- -f2 <<<"$TP")"
PARENT="$(cut -d- -f3 <<<"$TP")"
PIPE="otel_file_$RUN_ID"
mkdir -p in out
# Line 5 carries the upstream context; the batch must continue it although
# it is not the first record.
python3 - "$N" "$TP" >in/changes.jsonl <<'PY'
import json, sys
n, tp = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    rec = {"key": "K%03d" % i, "op": "upsert", "ts_ms": 1700000000000 + i, "seq": i,
           "value": {"objectClassName": "domain", "handle": "K%03d" % i, "ldhName": "k%03d.example" % i}}
    if i == 4:
        rec["headers"] = {"traceparent": tp, "other": "kept"}
    print(json.dumps(rec))
PY

cat >pipeline.yaml <<YAML
state_dir: state
otel:
  endpoint: "\${env:RDAPSYNC_OTEL_ENDPOINT}"
  service_name: rdapsync-otel-test
  sample_ratio: 1
pipelines:
  - name: $PIPE
    source: { plugin: file, config: { path: in/changes.jsonl } }
    transforms:
      - { plugin: normalize, config: { key: keep } }
    sink: { plugin: file, config: { path: out/out.jsonl, fsync: false } }
    batch: { max_records: 1000, max_wait: 1s }
    errors: { tolerance: none }
YAML

rc=0
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run pipeline.yaml >run.log 2>&1 || rc=$?
[[ $rc -eq 0 ]] || { tail -n 30 run.log >&2; fail "rdapsync exited with $rc"; }
[[ "$(wc -l <out/out.jsonl)" -eq $N ]] || fail "the sink wrote $(wc -l <out/out.jsonl) lines, expected $N"

# The collector's file exporter writes every 100 ms.
wait_for 60 "batch spans of $PIPE for $N records" "" run.log batches_hold "$PIPE" $N
wait_for 60 "$N record spans of $PIPE" "" run.log spans_at_least "$PIPE" record $N
spans stages "$PIPE" --records $N --source file --transform normalize --sink file --trace "$TRACE" --parent "$PARENT" \
  --service rdapsync-otel-test >&2 || fail "the stage spans are wrong"
spans records "$PIPE" --expect 1 --trace "$TRACE" --parent "$PARENT" >records.tsv || fail "the record spans are wrong"
[[ "$(wc -l <records.tsv)" -eq $N ]] || fail "$(wc -l <records.tsv) record spans, expected $N (sample_ratio 1)"
grep -q "^K004	$TRACE	[0-9a-f]*	$PARENT\$" records.tsv || fail "record K004 does not continue $TP: $(grep '^K004' records.tsv)"

# Each output line's traceparent names that record's span, in the trace.
python3 - records.tsv out/out.jsonl "$TRACE" <<'PY' || fail "the sink's traceparent headers are wrong"
import json, sys
spans = {}
for line in open(sys.argv[1]):
    key, trace, span, parent = line.rstrip("\n").split("\t")
    spans[key] = (trace, span)
trace = sys.argv[3]
for line in open(sys.argv[2]):
    rec = json.loads(line)
    tp = rec.get("headers", {}).get("traceparent")
    if isinstance(tp, list):
        sys.exit("record %s has %d traceparent headers" % (rec["key"], len(tp)))
    want = "00-%s-%s-01" % spans[rec["key"]]
    if tp != want or spans[rec["key"]][0] != trace:
        sys.exit("record %s: traceparent %r, expected %r" % (rec["key"], tp, want))
    if rec["key"] == "K004" and rec["headers"].get("other") != "kept":
        sys.exit("record K004 lost its other header: %r" % rec["headers"])
PY
log "PASS"
