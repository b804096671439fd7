#!/usr/bin/env bash
# redact on raw RDAP with each shipped policy (file -> redact -> file): the
# output stays RDAP, every RFC 9537 entry is well formed and points where it
# says, rdapConformance says "redacted"; gdpr-enterprise leaves no personal
# data; ccpa-basic masks California consumers only; gdpr-standard drops
# administrative and billing contacts. Then normalize with raw: true, whose
# kept original must be redacted as well.
source "$(dirname "$0")/lib.sh"

mkdir in
cp "$fixtures"/*.json in/
rdapgen 1000 8056 in/gen.jsonl --classes mixed
n=$(check count in/*)
pii extract needles.json in/*
pii orgs orgs.json in/*

for policy in gdpr-enterprise gdpr-standard ccpa-basic; do
  note "$policy on raw RDAP"
  pipeline_config "$policy.yaml" "$work/in" "$work/out/$policy.jsonl" "\
      - { plugin: redact, config: { policy: $policy, policy_dir: \"$policies\" } }"
  run "$policy.yaml" "$policy.log"
  check accounted "$n" "out/$policy.jsonl" /dev/null
  check rdap "out/$policy.jsonl"
done

pii scan needles.json out/gdpr-enterprise.jsonl gdpr-enterprise.log
pii present orgs.json out/gdpr-enterprise.jsonl

grep -q '"r\*\*\*\*\*\*@kelpmail.example"' out/ccpa-basic.jsonl || fail "ccpa-basic did not mask the California registrant's email"
grep -q '"tel:+\*\.\*\*\*\*\*\*\*\*\*\*"' out/ccpa-basic.jsonl || fail "ccpa-basic did not mask the California phone"
! grep -q 'rosa.al@kelpmail.example' out/ccpa-basic.jsonl || fail "ccpa-basic kept a California email"
grep -q '"maren@larkspur-bindery.example"' out/ccpa-basic.jsonl || fail "ccpa-basic masked someone outside California"
grep -q '"hostmaster@harborseal-hosting.example"' out/ccpa-basic.jsonl || fail "ccpa-basic masked an organisation"

python3 - out/gdpr-standard.jsonl <<'PY' || fail "gdpr-standard kept an administrative or billing contact"
import json, sys
for line in open(sys.argv[1]):
    doc = json.loads(line)["value"]
    stack = [doc]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            roles = n.get("roles")
            if "vcardArray" in n and isinstance(roles, list) and roles and set(roles) <= {"administrative", "billing"}:
                sys.exit(1)
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
PY

note "normalize with raw: true, then gdpr-enterprise"
pipeline_config keep-raw.yaml "$work/in" "$work/out/keep-raw.jsonl" "\
      - { plugin: normalize, config: { raw: true } }
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: \"$policies\" } }"
run keep-raw.yaml keep-raw.log
check accounted "$n" out/keep-raw.jsonl /dev/null
check unified out/keep-raw.jsonl "$policies/gdpr-enterprise.yaml"
python3 - out/keep-raw.jsonl <<'PY' || fail "the raw member is missing or not annotated"
import json, sys
for line in open(sys.argv[1]):
    v = json.loads(line)["value"]
    raw = v.get("raw")
    if not isinstance(raw, dict) or "objectClassName" not in raw:
        sys.exit(1)
    if raw.get("redacted") and "redacted" not in raw.get("rdapConformance", []):
        sys.exit(1)
PY
pii scan needles.json out/keep-raw.jsonl keep-raw.log
echo "PASS raw_policies"
