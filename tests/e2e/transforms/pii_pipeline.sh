#!/usr/bin/env bash
# The redaction property, end to end: every fixture (hostile ones included)
# and 5,000 generated records go file -> normalize -> redact
# (gdpr-enterprise) -> file, with tolerance all and a dead-letter file. No
# email, phone or fax number, individual's name or street line found in the
# inputs by an independent extractor (pii.py) may appear in the output, the
# dead letters or the log; organisations' names must all survive.
source "$(dirname "$0")/lib.sh"

mkdir in
cp "$fixtures"/*.json in/
for f in "$fixtures"/bad/*.json; do cp "$f" "in/bad-$(basename "$f")"; done
rdapgen 4000 9537 in/gen-rdap.jsonl --classes mixed
rdapgen 1000 7095 in/gen-envelope.jsonl --format envelope --classes mixed --updates 0.2 --deletes 0.1
n=$(check count in/*)
note "$n input records"

pipeline_config pii.yaml "$work/in" "$work/out/records.jsonl" "\
      - { plugin: normalize, config: { error_value: clear } }
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: \"$policies\" } }"
run pii.yaml pii.log

check accounted "$n" out/records.jsonl out/records.jsonl.dead
check unified out/records.jsonl "$policies/gdpr-enterprise.yaml"
check dead out/records.jsonl.dead --transform-value null >dead.txt
cat dead.txt
# Lines the source cannot parse reach the dead letters as the bytes read,
# before any transform runs (host behaviour, not the transforms'): those
# bytes are left out of the scan, everything else of the file is scanned.
grep -q "source dead letters" dead.txt || fail "the unparseable fixtures did not reach the dead letters at the source"
check dropraw out/records.jsonl.dead dead-scanned.jsonl

pii extract needles.json in/*
if pii scan needles.json in/gen-rdap.jsonl "$fixtures/domain-full.json" >control.txt; then
  fail "the scanner finds nothing in the inputs themselves: it cannot find leaks either"
fi
pii scan needles.json out/records.jsonl dead-scanned.jsonl pii.log

pii orgs orgs.json $(ls in/*.json | grep -v '/bad-') in/gen-*.jsonl
pii present orgs.json out/records.jsonl
echo "PASS pii_pipeline"
