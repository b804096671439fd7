#!/usr/bin/env bash
# A trace carried through Kafka: messages produced with a W3C traceparent
# header go kafka source -> normalize -> kafka sink. The collector must get
# every stage's span (poll, transform, sink write, flush, checkpoint
# commit) as a child of a batch span that continues the upstream context,
# with the pipeline, task, plugin and record count attributes; a record
# span per message under the upstream parent (sample_ratio 0: only those);
# and every message the sink produced carries a traceparent in the same
# trace that names its record's span.
TEST_NAME=otel_kafka_trace
. "$(dirname "$0")/lib.sh"
need_collector
[[ -n "${RDAPSYNC_KAFKA_BROKERS:-}" ]] ||
  fail "RDAPSYNC_KAFKA_BROKERS is not set: start the broker with scripts/servers/kafka.sh start and export what 'scripts/servers/kafka.sh env' prints"
command -v kcat >/dev/null || fail "kcat not found (Debian package kcat)"
BROKERS="$RDAPSYNC_KAFKA_BROKERS"
FEED="$RDAPSYNC_BINARY_DIR/tests/integration/kafka/kafka_feed"
[[ -x "$FEED" ]] || fail "kafka_feed not found in $RDAPSYNC_BINARY_DIR/tests/integration/kafka (build the kafka_feed target)"

N=25
TP="$(new_traceparent)"
TRACE="$(cut -d- -f2 <<<"$TP")"
PARENT="$(cut -d- -f3 <<<"$TP")"
IN="otel_in_$RUN_ID"
OUT="otel_out_$RUN_ID"
PIPE="otel_kafka_$RUN_ID"
"$FEED" --brokers "$BROKERS" --topic "$IN" --create 1 || fail "cannot create topic $IN"
"$FEED" --brokers "$BROKERS" --topic "$OUT" --create 1 || fail "cannot create topic $OUT"

python3 - "$N" >messages.txt <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    doc = {"objectClassName": "domain", "handle": "T%03d" % i, "ldhName": "t%03d.example" % i}
    print("T%03d\t%s" % (i, json.dumps(doc)))
PY
kcat -b "$BROKERS" -P -t "$IN" -K $'\t' -H "traceparent=$TP" -H "origin-app=feeder" <messages.txt ||
  fail "kcat could not produce to $IN"

cat >pipeline.yaml <<YAML
state_dir: state
http: { listen: "127.0.0.1:$(free_port)" }
otel:
  endpoint: "\${env:RDAPSYNC_OTEL_ENDPOINT}"
  sample_ratio: 0
pipelines:
  - name: $PIPE
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$IN], group: "g_$RUN_ID", format: json } }
    transforms:
      - { plugin: normalize }
    sink: { plugin: kafka, config: { brokers: "$BROKERS", topic: $OUT } }
    batch: { max_records: 1000, max_wait: 200ms }
    errors: { tolerance: none }
YAML

start_rdapsync pipeline.yaml run.log
pid=$RDAPSYNC_PID
produced() { [[ "$(kcat -b "$BROKERS" -C -t "$OUT" -o beginning -e -q -f 'x\n' | wc -l)" -ge $N ]]; }
wait_for 120 "$N messages in $OUT" "$pid" run.log produced
# The last batch is checkpointed once the next poll returns; then stop.
wait_for 60 "the record spans of $PIPE" "$pid" run.log spans_at_least "$PIPE" record $N
stop_rdapsync "$pid" run.log
wait_for 60 "batch spans of $PIPE for $N records" "" run.log batches_hold "$PIPE" $N

spans stages "$PIPE" --records $N --source kafka --transform normalize --sink kafka --trace "$TRACE" \
  --parent "$PARENT" --service rdapsync >&2 || fail "the stage spans are wrong"
spans records "$PIPE" --expect $N --trace "$TRACE" --parent "$PARENT" >records.tsv || fail "the record spans are wrong"

# The produced messages: key, traceparent (one each), the other header kept.
kcat -b "$BROKERS" -C -t "$OUT" -o beginning -e -q -f '%k\t%h\n' >produced.tsv
python3 - records.tsv produced.tsv "$TRACE" <<'PY' || fail "the kafka sink's traceparent headers are wrong"
import sys
spans = {}
for line in open(sys.argv[1]):
    key, trace, span, parent = line.rstrip("\n").split("\t")
    spans[key] = span
trace, seen = sys.argv[3], 0
for line in open(sys.argv[2]):
    key, headers = line.rstrip("\n").split("\t", 1)
    tps = [h.split("=", 1)[1] for h in headers.split(",") if h.startswith("traceparent=")]
    if len(tps) != 1:
        sys.exit("message %s has %d traceparent headers: %s" % (key, len(tps), headers))
    want = "00-%s-%s-01" % (trace, spans[key])
    if tps[0] != want:
        sys.exit("message %s: traceparent %s, expected %s (its record span)" % (key, tps[0], want))
    if "origin-app=feeder" not in headers.split(","):
        sys.exit("message %s lost the origin-app header: %s" % (key, headers))
    seen += 1
if seen != len(spans):
    sys.exit("%d messages produced, %d record spans" % (seen, len(spans)))
PY
log "PASS: trace $TRACE carried from $IN to $OUT"
