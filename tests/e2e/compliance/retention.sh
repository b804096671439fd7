#!/usr/bin/env bash
# `rdapsync retention --now`: documents past their retention deadline (the
# redact policy's retention_days from the record's event time) leave the
# sink, or stay anonymised under retention.action anonymise; documents
# without a deadline stay; the run is a line in the audit trail.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
for var in RDAPSYNC_SOURCE_DIR RDAPSYNC_BIN RDAPSYNC_PLUGIN_PATH; do
  [ -n "${!var:-}" ] || fail "$var is not set (run through ctest)"
done
export RDAPSYNC_PLUGIN_PATH
fixtures="$RDAPSYNC_SOURCE_DIR/tests/fixtures/rdap"
policies="$RDAPSYNC_SOURCE_DIR/config/policies"
work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-retention.XXXXXX")
trap 'rm -rf "$work"' EXIT; [ -n "${KEEP_WORK:-}" ] && trap - EXIT
cd "$work"
head -c 32 /dev/urandom | base64 >audit.key
# Every class expires one day after the record's event: the fixtures' events are long past.
cat >short.yaml <<'YAML'
name: short
retention_days: { personal: 1, business-sensitive: 1, public: 1 }
rules:
  - fields: [fax]
    method: removal
YAML
mkdir in
cp "$fixtures/domain-full.json" in/
cat >cfg.yaml <<YAML
state_dir: $work/state
audit: { path: $work/audit.log, key: "\${file:$work/audit.key}" }
compliance: { policy_dir: "$policies" }
pipelines:
  - name: expiring
    source: { plugin: file, config: { path: "$work/in" } }
    transforms:
      - { plugin: normalize, config: { error_value: clear } }
      - { plugin: redact, config: { policy: "$work/short.yaml" } }
    sink: { plugin: file, config: { path: "$work/out/expiring.jsonl" } }
  - name: anonymised
    source: { plugin: file, config: { path: "$work/in" } }
    transforms:
      - { plugin: normalize, config: { error_value: clear } }
      - { plugin: redact, config: { policy: "$work/short.yaml" } }
    sink: { plugin: file, config: { path: "$work/out/anonymised.jsonl" } }
    retention: { interval: 1h, action: anonymise }
  - name: no_deadline
    source: { plugin: file, config: { path: "$work/in" } }
    transforms:
      - { plugin: normalize, config: { error_value: clear } }
    sink: { plugin: file, config: { path: "$work/out/kept.jsonl" } }
YAML
"$RDAPSYNC_BIN" run cfg.yaml >run.log 2>&1 || { tail -20 run.log; fail "run failed"; }
for f in expiring anonymised kept; do grep -q maren@ "out/$f.jsonl" || fail "control: out/$f.jsonl should hold the record"; done
"$RDAPSYNC_BIN" retention --now cfg.yaml >retention.out 2>&1 || { cat retention.out; fail "retention --now failed"; }
cat retention.out
grep -q "pipeline expiring, sink file (task 0): purged 1 document" retention.out || fail "the expired record was not purged"
grep -q "pipeline anonymised, sink file (task 0): anonymised 1 document" retention.out || fail "not anonymised"
grep -q "pipeline no_deadline, sink file (task 0): purged 0 documents" retention.out || fail "a record without deadline was touched"
grep -q D918273645-EXAMPLE out/expiring.jsonl && fail "the expired record is still in the sink"
grep -q maren@ out/anonymised.jsonl && fail "the anonymised record still names its contact"
grep -q D918273645-EXAMPLE out/anonymised.jsonl || fail "the anonymised record is gone"
grep -q maren@ out/kept.jsonl || fail "the record without deadline lost its data"
grep -q '"event":"retention","trigger":"command","purged":2' audit.log || { cat audit.log; fail "no retention line in the trail"; }
"$RDAPSYNC_BIN" audit verify audit.log >/dev/null || fail "the trail does not verify"
"$RDAPSYNC_BIN" retention --now cfg.yaml | grep -q "purged 1\|anonymised 1" && fail "a second run purged again"
echo "PASS retention"
