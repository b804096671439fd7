#!/usr/bin/env bash
# The collector going away costs nothing but spans: with a collector of its
# own (scripts/servers/otelcol.sh in this test's folder, on a free port)
# a following file pipeline exports spans; then the collector is stopped,
# and every record appended afterwards is still delivered, the spans that
# could not be sent are counted in rdapsync_otel_spans_dropped_total, and
# once the collector is back spans flow again; rdapsync stops cleanly on
# SIGTERM.
TEST_NAME=otel_collector_down
. "$(dirname "$0")/lib.sh"

OTELCOL="$RDAPSYNC_SOURCE_DIR/scripts/servers/otelcol.sh"
export RDAPSYNC_SERVERS_DIR="$WORK/servers" RDAPSYNC_OTEL_PORT
RDAPSYNC_OTEL_PORT="$(free_port)"
stop_own_collector() { bash "$OTELCOL" stop >/dev/null 2>&1; }
CLEANUP_HOOK=stop_own_collector
bash "$OTELCOL" start || fail "cannot start a collector on port $RDAPSYNC_OTEL_PORT"
eval "$(bash "$OTELCOL" env)"

PIPE="otel_down_$RUN_ID"
HTTP="127.0.0.1:$(free_port)"
URL="http://$HTTP"
OUT_SAMPLE="rdapsync_task_records_out_total{pipeline=\"$PIPE\",task=\"0\"}"
mkdir -p in out
# append FROM COUNT: COUNT envelopes K<FROM>.. to the followed file.
append() {
  python3 - "$1" "$2" >>in/changes.jsonl <<'PY'
import json, sys
start, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(start, start + n):
    print(json.dumps({"key": "K%05d" % i, "op": "upsert", "ts_ms": 1700000000000 + i, "seq": i,
                      "value": {"objectClassName": "domain", "handle": "K%05d" % i}}))
PY
}
append 0 20

cat >pipeline.yaml <<YAML
state_dir: state
http: { listen: "$HTTP" }
otel:
  endpoint: "\${env:RDAPSYNC_OTEL_ENDPOINT}"
  sample_ratio: 1
pipelines:
  - name: $PIPE
    source: { plugin: file, config: { path: in/changes.jsonl, follow: true } }
    sink: { plugin: file, config: { path: out/out.jsonl, fsync: false } }
    batch: { max_records: 50, max_wait: 100ms }
    errors: { tolerance: none }
YAML

start_rdapsync pipeline.yaml run.log
pid=$RDAPSYNC_PID
wait_for 60 "20 records delivered" "$pid" run.log metric_at_least "$URL" "$OUT_SAMPLE" 20
wait_for 60 "spans exported to the collector" "$pid" run.log metric_at_least "$URL" rdapsync_otel_spans_exported_total 1
wait_for 60 "spans in the collector's file" "$pid" run.log spans_at_least "$PIPE" batch 1
dropped_before="$(metric "$URL" rdapsync_otel_spans_dropped_total)"
[[ "$dropped_before" == 0 ]] || fail "spans were dropped while the collector was up: $dropped_before"

log "stopping the collector"
bash "$OTELCOL" stop || fail "cannot stop the collector"
# Enough records for many batches (and many spans) with nobody to take them.
for round in 0 1 2 3 4; do
  append $((20 + round * 200)) 200
  wait_for 120 "$((20 + (round + 1) * 200)) records delivered" "$pid" run.log \
    metric_at_least "$URL" "$OUT_SAMPLE" $((20 + (round + 1) * 200))
done
[[ "$(wc -l <out/out.jsonl)" -eq 1020 ]] || fail "the sink holds $(wc -l <out/out.jsonl) lines, expected 1020"
wait_for 60 "dropped spans counted" "$pid" run.log metric_at_least "$URL" rdapsync_otel_spans_dropped_total 1
failures="$(metric "$URL" rdapsync_otel_export_failures_total)"
(( failures >= 1 )) || fail "rdapsync_otel_export_failures_total is $failures"
grep -q 'otel: export of [0-9]* spans to .* failed' run.log || fail "no warning about the failed export in the log"

# Back up: spans flow again, with nothing to do on rdapsync's side.
exported="$(metric "$URL" rdapsync_otel_spans_exported_total)"
log "starting the collector again"
bash "$OTELCOL" start || fail "cannot start the collector again"
append 1020 20
wait_for 60 "1040 records delivered" "$pid" run.log metric_at_least "$URL" "$OUT_SAMPLE" 1040
wait_for 60 "spans exported again" "$pid" run.log metric_at_least "$URL" rdapsync_otel_spans_exported_total $((exported + 1))
grep -q 'otel: the collector at .* accepts spans again' run.log || fail "no line about the collector being back in the log"
stop_rdapsync "$pid" run.log
log "PASS: 1040 records delivered; $failures export failures while the collector was down, exports resumed"
