#!/usr/bin/env bash
# errors.dead_letter.protect with the file source and sinks: a redacting
# pipeline whose dead letters would be clear is refused (file:line:column);
# protect: encrypt seals the documents and the raw bytes of unparsable
# lines (and dlq replay opens them again); protect: redact writes them
# redacted and drops raw bytes; protect: none keeps them as they are and
# validate --strict refuses it.
set -euo pipefail
for var in RDAPSYNC_SOURCE_DIR RDAPSYNC_BINARY_DIR RDAPSYNC_BIN RDAPSYNC_PLUGIN_PATH; do
  [ -n "${!var:-}" ] || { echo "FAIL: $var is not set (run through ctest)" >&2; exit 1; }
done
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }
rdapsync() { "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-crypt.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# Input: good records, then a record normalize refuses (a remark longer
# than its max_string) holding a person's contact, an unparsable line with
# an email in it, and a line that is not UTF-8.
"$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen" --count 5 --seed 7 --size 1500 -o good.jsonl
python3 - good.jsonl >input.jsonl <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
sys.stdout.write("\n".join(lines) + "\n")
doc = json.loads(lines[0])
doc["handle"] = "LONG-REMARK"
doc["remarks"] = [{"description": ["x" * 2000]}]
doc["entities"] = [{"objectClassName": "entity", "handle": "E1", "roles": ["registrant"],
                    "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["kind", {}, "text", "individual"],
                                             ["fn", {}, "text", "Jane Secret"],
                                             ["email", {}, "text", "jane.secret@example.com"]]]}]
sys.stdout.write(json.dumps(doc) + "\n")
sys.stdout.write('{"handle": "RAW", "email": "raw.secret@example.com", \n')
sys.stdout.buffer.write(b'\xff\xfe raw.secret@example.com\n')
PY
echo "d1:$(openssl rand -base64 32)" >dlq.keyring

# config PROTECT_YAML: normalize -> redact -> file, dead letters to a file.
config() {
  cat <<YAML
state_dir: state
pipelines:
  - name: p
    source: { plugin: file, config: { path: input.jsonl } }
    transforms:
      - { plugin: normalize, config: { max_string: 1K } }
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: "$RDAPSYNC_SOURCE_DIR/config/policies" } }
    sink: { plugin: file, config: { path: out.jsonl } }
    errors:
      tolerance: all
      dead_letter: { plugin: file, config: { path: dlq.jsonl, format: envelope }$1 }
YAML
}

note "no protection chosen: refused, naming the block"
config "" >clear.yaml
if rdapsync validate clear.yaml 2>validate.err; then fail "validate accepted clear dead letters in a redacting pipeline"; fi
grep -q '^clear.yaml:11:20: error: .*errors.dead_letter: the pipeline redacts personal data' validate.err ||
  fail "unexpected message: $(cat validate.err)"
if rdapsync run clear.yaml 2>run.err >/dev/null; then fail "run accepted clear dead letters in a redacting pipeline"; fi
[ ! -e dlq.jsonl ] || fail "run wrote dead letters although the configuration was refused"

dead_letters_hold() { # FILE PATTERN: true when a dead letter holds PATTERN
  grep -q -e "$2" "$1"
}

note "protect: encrypt (the default once a keyring is given)"
config ', keyring: "${file:dlq.keyring}"' >encrypt.yaml
rdapsync validate --strict encrypt.yaml >/dev/null
rdapsync run encrypt.yaml >encrypt.log 2>&1 || fail "run failed: $(tail -3 encrypt.log)"
[ "$(wc -l <dlq.jsonl)" -eq 3 ] || fail "expected 3 dead letters, got $(wc -l <dlq.jsonl)"
for secret in Jane secret@example.com 'raw.secret'; do
  if dead_letters_hold dlq.jsonl "$secret"; then fail "encrypted dead letters hold '$secret' in clear"; fi
done
[ "$(grep -c '"value":{"enc":"aes-256-gcm","kid":"d1"' dlq.jsonl)" -eq 3 ] || fail "not every dead letter is sealed"
grep -q '"rdapsync.error.stage":"source"' dlq.jsonl || fail "the reason headers were lost"
# The sealed raw bytes open again with the keyring: a replay through a
# pipeline that only decrypts shows what was sealed.
mv dlq.jsonl sealed-dlq.jsonl
cat >open.yaml <<YAML
state_dir: state-open
pipelines:
  - name: p
    source: { plugin: file, config: { path: unused.jsonl } }
    sink: { plugin: file, config: { path: opened.jsonl } }
    errors:
      tolerance: all
      dead_letter: { plugin: file, config: { path: opened-dlq.jsonl, format: envelope }, keyring: "\${file:dlq.keyring}" }
YAML
rdapsync dlq replay sealed-dlq.jsonl open.yaml >open.log 2>&1 || fail "replay failed: $(tail -3 open.log)"
grep -q '"raw":"{\\"handle\\": \\"RAW\\", \\"email\\": \\"raw.secret@example.com\\", "' opened.jsonl ||
  fail "the unparsable line did not come back: $(cat opened.jsonl)"
grep -q '"raw_hex":"fffe207261772e73656372657440' opened.jsonl || fail "the non-UTF-8 line did not come back as hex"
grep -q 'jane.secret@example.com' opened.jsonl || fail "the refused document did not come back"
# Replays that cannot be: the pipeline does not exist, or it writes its
# dead letters to the very file to replay.
if rdapsync dlq replay sealed-dlq.jsonl open.yaml --pipeline nosuch >/dev/null 2>replay.err; then
  fail "dlq replay accepted a pipeline that does not exist"
fi
grep -q "no pipeline 'nosuch' to replay" replay.err || fail "unexpected message: $(cat replay.err)"
cp sealed-dlq.jsonl dlq.jsonl
if rdapsync dlq replay dlq.jsonl encrypt.yaml >/dev/null 2>replay.err; then
  fail "dlq replay read the file its pipeline writes its dead letters to"
fi
grep -q "encrypt.yaml:11:.*writes its dead letters to dlq.jsonl, the file to replay: move the file aside first" replay.err ||
  fail "unexpected message: $(cat replay.err)"
rm -rf state state-open out.jsonl* dlq.jsonl

note "protect: redact"
config ', protect: redact' >redact.yaml
rdapsync validate --strict redact.yaml >/dev/null
rdapsync run redact.yaml >redact.log 2>&1 || fail "run failed: $(tail -3 redact.log)"
[ "$(wc -l <dlq.jsonl)" -eq 3 ] || fail "expected 3 dead letters, got $(wc -l <dlq.jsonl)"
for secret in 'Jane Secret' secret@example.com 'raw.secret'; do
  if dead_letters_hold dlq.jsonl "$secret"; then fail "redacted dead letters hold '$secret'"; fi
done
grep -q '"key":"LONG-REMARK".*"value":{.*REDACTED' dlq.jsonl || fail "the parsed record lost its (redacted) document"
rm -rf state out.jsonl* dlq.jsonl*

note "protect: none (explicit): as received, and --strict refuses it"
config ', protect: none' >none.yaml
rdapsync validate none.yaml >/dev/null 2>none.err || fail "validate refused an explicit protect: none"
grep -q 'warning: .*\[dead-letter-clear\]' none.err || fail "no dead-letter-clear warning: $(cat none.err)"
if rdapsync validate --strict none.yaml >/dev/null 2>&1; then fail "validate --strict accepted protect: none"; fi
rdapsync run none.yaml >none.log 2>&1 || fail "run failed"
dead_letters_hold dlq.jsonl 'jane.secret@example.com' || fail "protect: none changed the dead letters"
note "PASS"
