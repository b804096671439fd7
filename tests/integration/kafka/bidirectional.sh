#!/usr/bin/env bash
# Bi-directional sync without echoes (skip_origins), on the real broker and
# on files. Two regions, region-1 (A) and region-2 (B), each with its own
# change stream that holds its local writes and what it applied from the
# other region:
#   Kafka: topic A and topic B. Local writes enter through a file -> kafka
#          pipeline; pipeline a-to-b reads A (skip_origins [region-2]) into
#          B, pipeline b-to-a reads B (skip_origins [region-1]) into A.
#   Files: directory A holds local.jsonl and from-peer.jsonl (what b-to-a
#          wrote); pipeline a-to-b-file follows directory A (skip_origins
#          [region-2]) into B/from-peer.jsonl, and the other way round.
# Without skip_origins every change would travel round the loop forever.
# With it, each change is applied once in each region: every stream ends
# with exactly the local writes of both regions, each version once, and
# each pipeline skipped exactly the other region's copies. The version
# vectors rdapgen wrote arrive unchanged at the far end.
TEST_NAME=kafka_bidirectional
. "$(dirname "$0")/lib.sh"

"$RDAPGEN" --format envelope --regions 2 --conflict-rate 0.2 --count 600 --keys 150 --size 600 --seed 9 -o gen
NA="$(grep -c . gen/region-1.jsonl)"
NB="$(grep -c . gen/region-2.jsonl)"
log "region-1 wrote $NA changes, region-2 $NB"

TA="bidi_a_$RUN_ID"
TB="bidi_b_$RUN_ID"
create_topic "$TA" 2
create_topic "$TB" 2
mkdir -p fa fb
cp gen/region-1.jsonl fa/local.jsonl
cp gen/region-2.jsonl fb/local.jsonl

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
kafka_source() { # TOPIC GROUP SKIP
  printf '{ plugin: kafka, config: { brokers: "%s", topics: [%s], group: "%s_%s", format: json, skip_origins: [%s] } }' \
    "$BROKERS" "$1" "$2" "$RUN_ID" "$3"
}
cat >run.yaml <<YAML
state_dir: state
http: { listen: "127.0.0.1:$port" }
pipelines:
  - name: local-a
    source: { plugin: file, config: { path: gen/region-1.jsonl } }
    sink: { plugin: kafka, config: { brokers: "$BROKERS", topic: $TA } }
    errors: { tolerance: none }
  - name: local-b
    source: { plugin: file, config: { path: gen/region-2.jsonl } }
    sink: { plugin: kafka, config: { brokers: "$BROKERS", topic: $TB } }
    errors: { tolerance: none }
  - name: a-to-b
    source: $(kafka_source "$TA" a2b region-2)
    sink: { plugin: kafka, config: { brokers: "$BROKERS", topic: $TB } }
    batch: { max_records: 200, max_wait: 50ms }
    errors: { tolerance: none }
  - name: b-to-a
    source: $(kafka_source "$TB" b2a region-1)
    sink: { plugin: kafka, config: { brokers: "$BROKERS", topic: $TA } }
    batch: { max_records: 200, max_wait: 50ms }
    errors: { tolerance: none }
  - name: a-to-b-file
    source: { plugin: file, config: { path: fa, follow: true, skip_origins: [region-2] } }
    sink: { plugin: file, config: { path: fb/from-peer.jsonl } }
    batch: { max_records: 200, max_wait: 50ms }
    errors: { tolerance: none }
  - name: b-to-a-file
    source: { plugin: file, config: { path: fb, follow: true, skip_origins: [region-1] } }
    sink: { plugin: file, config: { path: fa/from-peer.jsonl } }
    batch: { max_records: 200, max_wait: 50ms }
    errors: { tolerance: none }
YAML

# skipped PIPELINE: rdapsync_plugin_origins_skipped_total of its source.
skipped() {
  curl -s "http://127.0.0.1:$port/metrics" |
    awk -v p="pipeline=\"$1\"" '/^rdapsync_plugin_origins_skipped_total/ && index($0, p) { s += $NF } END { print s + 0 }'
}
skipped_is() { [[ "$(skipped "$1")" == "$2" ]]; }
topic_headers() { kcat -b "$BROKERS" -C -t "$1" -o beginning -e -q -f '%h\n'; }
topic_count_is() { [[ "$(topic_headers "$1" | grep -c .)" == "$2" ]]; }

start_rdapsync run.yaml run.log
pid=$RDAPSYNC_PID
total=$((NA + NB))
# Each loop pipeline has consumed its whole input once it skipped exactly
# the other region's copies and the streams hold every change: an echo
# would have been emitted before that and shows in the counts below.
wait_for 300 "a-to-b to skip region-2's $NB changes" "$pid" run.log skipped_is a-to-b "$NB"
wait_for 300 "b-to-a to skip region-1's $NA changes" "$pid" run.log skipped_is b-to-a "$NA"
wait_for 300 "a-to-b-file to skip region-2's $NB changes" "$pid" run.log skipped_is a-to-b-file "$NB"
wait_for 300 "b-to-a-file to skip region-1's $NA changes" "$pid" run.log skipped_is b-to-a-file "$NA"
wait_for 300 "topic A to hold $total changes" "$pid" run.log topic_count_is "$TA" "$total"
wait_for 300 "topic B to hold $total changes" "$pid" run.log topic_count_is "$TB" "$total"
wait_for 300 "B/from-peer.jsonl to hold region-1's $NA changes" "$pid" run.log lines_at_least "$NA" fb/from-peer.jsonl
wait_for 300 "A/from-peer.jsonl to hold region-2's $NB changes" "$pid" run.log lines_at_least "$NB" fa/from-peer.jsonl
stop_rdapsync "$pid" run.log

# Exact counts after the drain: nothing came round a second time.
for t in "$TA" "$TB"; do
  n="$(topic_headers "$t" | grep -c .)"
  [[ "$n" == "$total" ]] || fail "topic $t holds $n messages, expected exactly $total (an echo?)"
  distinct="$(topic_headers "$t" | grep -o 'rdapsync.origin=[^,]*,rdapsync.seq=[0-9]*' | sort -u | wc -l)"
  [[ "$distinct" == "$total" ]] || fail "topic $t holds $distinct distinct versions for $total messages"
  vv="$(topic_headers "$t" | grep -c 'rdapsync.vv=')"
  [[ "$vv" == "$total" ]] || fail "topic $t: $vv of $total messages carry rdapsync.vv"
done
[[ "$(file_lines fb/from-peer.jsonl)" == "$NA" ]] || fail "B/from-peer.jsonl holds $(file_lines fb/from-peer.jsonl) lines, expected $NA"
[[ "$(file_lines fa/from-peer.jsonl)" == "$NB" ]] || fail "A/from-peer.jsonl holds $(file_lines fa/from-peer.jsonl) lines, expected $NB"

# The far end holds each change as it was written: key, version and vector.
python3 - gen fa fb <<'PY' || fail "the copies differ from the changes rdapgen wrote"
import json, sys
gen, fa, fb = sys.argv[1:]
def load(path, copied):
    out = set()
    for raw in open(path, encoding="utf-8"):
        l = json.loads(raw)
        v = l["version"] if copied else l
        out.add((l["key"], v["ts_ms"], v["origin"], v["seq"], json.dumps(l["vv"], sort_keys=True)))
    return out
for region, peer in (("region-1", fb), ("region-2", fa)):
    wrote = load(f"{gen}/{region}.jsonl", False)
    got = load(f"{peer}/from-peer.jsonl", True)
    if wrote != got:
        print(f"{region}: {len(wrote - got)} missing, {len(got - wrote)} unexpected", file=sys.stderr)
        sys.exit(1)
PY
log "each of $NA + $NB changes is in each region once (Kafka and files), skips exact, vectors intact"
log "PASS"
