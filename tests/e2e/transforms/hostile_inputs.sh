#!/usr/bin/env bash
# Hostile inputs (fixtures/rdap/bad) through file -> normalize -> redact ->
# file: the run ends normally, every input is accounted for as a dead letter
# with a reason naming its place (file:line at the source, a JSON path in a
# transform), no transform's dead letter carries the document, and nothing
# is silently dropped.
source "$(dirname "$0")/lib.sh"

mkdir in
cp "$fixtures"/bad/*.json in/
n=$(check count in/*)
pipeline_config bad.yaml "$work/in" "$work/out/records.jsonl" "\
      - { plugin: normalize, config: { error_value: clear } }
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: \"$policies\" } }"
run bad.yaml bad.log
touch out/records.jsonl out/records.jsonl.dead
check accounted "$n" out/records.jsonl out/records.jsonl.dead
[ ! -s out/records.jsonl ] || fail "a hostile input came through: $(head -c 300 out/records.jsonl)"
check dead out/records.jsonl.dead --transform-value null >dead.txt
cat dead.txt
for reason in "nesting deeper than max_depth" "longer than max_string" "jCard property needs" \
              "expected a jCard array" "expected a string, got an integer"; do
  grep -q "$reason" dead.txt || fail "no dead letter says \"$reason\""
done

note "the same through redact alone (raw RDAP)"
pipeline_config raw.yaml "$work/in" "$work/out/raw.jsonl" "\
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: \"$policies\" } }"
run raw.yaml raw.log
touch out/raw.jsonl out/raw.jsonl.dead
check accounted "$n" out/raw.jsonl out/raw.jsonl.dead
check dead out/raw.jsonl.dead --transform-value null
pii extract needles.json in/*.json
check dropraw out/raw.jsonl.dead raw-dead-scanned.jsonl
pii scan needles.json out/raw.jsonl raw-dead-scanned.jsonl raw.log
echo "PASS hostile_inputs"
