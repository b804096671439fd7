#!/usr/bin/env bash
# The audit trail of a real run and "erased stays erased", end to end:
#  - a run with two pipelines (one redacting, one not) writes a signed trail
#    that `audit verify` accepts, with per-batch redaction counts and no
#    subject in clear;
#  - `access` exports what the sinks hold about the subject, `erase
#    --dry-run` counts it, `erase` puts the subject on the suppression list
#    (keyed hashes only), then redacts the records of the pipeline that
#    redacts and deletes those of the one that does not;
#  - a newer record about the subject then arrives redacted in both
#    pipelines, the one without a redact transform included;
#  - `audit verify` names the first bad line after each kind of tampering.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }
for var in RDAPSYNC_SOURCE_DIR RDAPSYNC_BIN RDAPSYNC_PLUGIN_PATH; do
  [ -n "${!var:-}" ] || fail "$var is not set (run through ctest)"
done
export RDAPSYNC_PLUGIN_PATH
command -v openssl >/dev/null || fail "the openssl command is needed to make an Ed25519 key"
fixtures="$RDAPSYNC_SOURCE_DIR/tests/fixtures/rdap"
policies="$RDAPSYNC_SOURCE_DIR/config/policies"
work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-compliance.XXXXXX")
trap 'rm -rf "$work"' EXIT; [ -n "${KEEP_WORK:-}" ] && trap - EXIT
cd "$work"

email=maren@larkspur-bindery.example
grep -q "$email" "$fixtures/domain-full.json" || fail "the fixture no longer names $email"

head -c 32 /dev/urandom | base64 >audit.key
head -c 32 /dev/urandom | base64 >subjects.key
openssl genpkey -algorithm ed25519 -out sign.pem 2>/dev/null
openssl pkey -in sign.pem -pubout -out sign.pub 2>/dev/null

# config NAME INPUT_DIR: two pipelines over INPUT_DIR, outputs under out-NAME/.
config() {
  cat >"$1.yaml" <<YAML
state_dir: $work/state-$1
audit: { path: $work/audit.log, key: "\${file:$work/audit.key}", sign_key: $work/sign.pem }
compliance: { suppression: $work/suppressed.list, key: "\${file:$work/subjects.key}", policy_dir: "$policies" }
pipelines:
  - name: redacting
    source: { plugin: file, config: { path: "$2" } }
    transforms:
      - { plugin: normalize, config: { error_value: clear } }
      - { plugin: redact, config: { policy: "$work/fax-only.yaml" } }
    sink: { plugin: file, config: { path: "$work/out-$1/redacting.jsonl" } }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "$work/out-$1/redacting.dead" }, protect: redact } }
  - name: plain
    source: { plugin: file, config: { path: "$2" } }
    transforms:
      - { plugin: normalize, config: { error_value: clear } }
    sink: { plugin: file, config: { path: "$work/out-$1/plain.jsonl" } }
YAML
}

# A policy that keeps e-mail addresses, so the redacting pipeline's store
# holds the subject until the erasure redacts it.
cat >fax-only.yaml <<'YAML'
name: fax-only
rules:
  - fields: [fax]
    method: removal
YAML

mkdir in1 in2
cp "$fixtures"/domain-*.json in1/
config first "$work/in1"
"$RDAPSYNC_BIN" run first.yaml >first.log 2>&1 || { tail -20 first.log; fail "the first run failed"; }
grep -q "$email" out-first/plain.jsonl || fail "control: the plain pipeline should hold $email before the erasure"

note "the trail of a run verifies, signed, and names nobody"
"$RDAPSYNC_BIN" audit verify audit.log --public-key sign.pub || fail "audit verify refused the trail of a real run"
grep -q '"event":"start"' audit.log || fail "no start line"
grep -q '"event":"redaction","pipeline":"redacting"' audit.log || fail "no per-batch redaction summary"
grep '"event":"redaction"' audit.log | grep -q '"fax":' || fail "the redaction summary has no fax count"
grep -qi "maren" audit.log && fail "the trail names a subject in clear"

key=D918273645-EXAMPLE
for out in out-first/plain.jsonl out-first/redacting.jsonl; do
  grep -q "$email" "$out" || fail "control: $out should hold $email before the erasure"
done

note "access exports every stored document about the subject"
"$RDAPSYNC_BIN" access --subject "email:$email" first.yaml --out access.json || fail "access failed"
[ "$(stat -c %a access.json)" = 600 ] || fail "the access export is not private (mode $(stat -c %a access.json))"
python3 - access.json "$key" <<'PY' || fail "the access export is not what the sinks hold"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["complete"] is True, doc
stores = {(h["pipeline"], h["store"]) for h in doc["holdings"]}
assert ("plain", "sink") in stores and ("redacting", "sink") in stores, stores
assert all(h["key"] == sys.argv[2] for h in doc["holdings"] if h["store"] == "sink"), doc["holdings"]
PY
grep -q '"event":"access"' audit.log || fail "no access line in the trail"

note "erase --dry-run counts and changes nothing"
"$RDAPSYNC_BIN" erase --dry-run --subject "email:$email" first.yaml >dry.out || fail "erase --dry-run failed"
cat dry.out
grep -q "pipeline plain, sink file: would erase 1 document" dry.out || fail "the dry run did not count the plain store"
[ -s suppressed.list ] && fail "a dry run added to the suppression list"
grep -q "$email" out-first/plain.jsonl || fail "a dry run changed a store"

note "erase puts the subject on the suppression list, redacts or deletes"
status=0
"$RDAPSYNC_BIN" erase --subject "email:Maren@Larkspur-Bindery.example" first.yaml >erase.out 2>&1 || status=$?
cat erase.out
[ "$status" -eq 0 ] || fail "erase exited $status"
for out in out-first/plain.jsonl out-first/redacting.jsonl out-first/redacting.dead; do
  [ -e "$out" ] || continue
  grep -qi "maren" "$out" && fail "$out still holds the erased subject"
done
grep -q "\"$key\"" out-first/plain.jsonl && fail "the plain pipeline (no redact transform) kept the record"
grep -q "\"$key\"" out-first/redacting.jsonl || fail "the redacting pipeline lost the record instead of redacting it"
grep -q '"policy":"suppress"' out-first/redacting.jsonl || fail "the kept record was not redacted with the suppress policy"
ls state-first/compliance/*.journal >/dev/null 2>&1 && fail "a finished erasure left its journal"
[ "$(wc -l <suppressed.list)" -eq 1 ] || fail "the suppression list should hold one subject"
grep -Eq '^[0-9a-f]{64}$' suppressed.list || fail "the suppression list holds something other than a keyed hash"
grep -qi "maren" suppressed.list && fail "the suppression list names the subject in clear"
grep -q '"event":"erase"' audit.log || fail "no erase line in the trail"
"$RDAPSYNC_BIN" erase --subject "email:$email" first.yaml >again.out 2>&1 || { cat again.out; fail "a second erase failed"; }
grep -q "erased [1-9]" again.out && { cat again.out; fail "a second erase changed something: not idempotent"; }
[ "$(wc -l <suppressed.list)" -eq 1 ] || fail "erasing the same subject again added a second entry"

note "restrict suppresses a second subject without touching what is stored"
other=rosa.al@kelpmail.example
grep -q "$other" out-first/plain.jsonl || fail "control: the plain store should hold $other"
"$RDAPSYNC_BIN" restrict --subject "email:$other" first.yaml || fail "restrict failed"
[ "$(wc -l <suppressed.list)" -eq 2 ] || fail "restrict did not add to the suppression list"
grep -q "$other" out-first/plain.jsonl || fail "restrict changed a store"
grep -q '"event":"restrict"' audit.log || fail "no restrict line in the trail"

note "a newer record about the subject arrives redacted, in both pipelines"
for f in domain-full domain-ccpa-california; do
  python3 - "$fixtures/$f.json" "in2/$f-newer.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc.setdefault("events", []).append({"eventAction": "last changed", "eventDate": "2031-01-01T00:00:00Z"})
json.dump(doc, open(sys.argv[2], "w"))
PY
done
config second "$work/in2"
"$RDAPSYNC_BIN" run second.yaml >second.log 2>&1 || { tail -20 second.log; fail "the second run failed"; }
for out in out-second/plain.jsonl out-second/redacting.jsonl; do
  [ -s "$out" ] || fail "$out is empty: the newer record did not arrive"
  grep -qi "maren" "$out" && fail "$out still holds the erased subject"
  grep -q "$other" "$out" && fail "$out holds the restricted subject"
  grep -q '"redacted"' "$out" || fail "$out carries no RFC 9537 redaction entries"
done
grep -qi "maren" second.log && fail "the log names the erased subject"
grep '"event":"redaction"' audit.log | grep -q '"suppressed":' || fail "the trail does not count the suppressed records"

note "audit verify passes on the real log and fails on each kind of tampering"
"$RDAPSYNC_BIN" audit verify audit.log --public-key sign.pub
lines=$(wc -l <audit.log)
[ "$lines" -ge 4 ] || fail "the trail is too short to tamper with ($lines lines)"
expect_bad() { # NAME FILE LINE
  local status=0
  "$RDAPSYNC_BIN" audit verify "$2" --public-key sign.pub >verify.out 2>&1 || status=$?
  [ "$status" -eq 1 ] || { cat verify.out; fail "$1: audit verify exited $status, not 1"; }
  grep -q "^$2:$3: " verify.out || { cat verify.out; fail "$1: the first bad line should be $3"; }
}
sed '2s/"seq":2/"seq":2,"x":1/' audit.log >edited.log;               expect_bad edited edited.log 2
sed '2s/"time":"2[0-9]*/"time":"1999/' audit.log >edited2.log;       expect_bad "edited time" edited2.log 2
sed '2d' audit.log >deleted.log;                                     expect_bad deleted deleted.log 2
sed '2p' audit.log >inserted.log;                                    expect_bad inserted inserted.log 3
{ sed -n 1p audit.log; sed -n 3p audit.log; sed -n 2p audit.log; sed -n '4,$p' audit.log; } >reordered.log
expect_bad reordered reordered.log 2
openssl genpkey -algorithm ed25519 -out other.pem 2>/dev/null
openssl pkey -in other.pem -pubout -out other.pub 2>/dev/null
status=0; "$RDAPSYNC_BIN" audit verify audit.log --public-key other.pub >verify.out 2>&1 || status=$?
[ "$status" -eq 1 ] && grep -q "signature" verify.out || { cat verify.out; fail "another key's signature check passed"; }
echo "PASS compliance trail"
