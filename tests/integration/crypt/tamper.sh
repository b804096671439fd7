#!/usr/bin/env bash
# Tampered payloads through kafka -> decrypt -> postgres: a flipped byte of
# data, tag or iv, a changed kid (unknown, or another key of the ring), a
# payload moved to another record, and (path mode) one moved to another
# path each become a dead letter whose reason says why and names the
# record key, still encrypted; only the intact records reach the table.
TEST_NAME=crypt_tamper
. "$(dirname "$0")/../kafka/lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"

{ echo "k1:$(openssl rand -base64 32)"; echo "k2:$(openssl rand -base64 32)"; } >keyring
"$RDAPGEN" --format envelope --count 8 --size 1500 --seed 31 -o whole.jsonl
"$RDAPGEN" --format envelope --count 40 --size 3000 --seed 32 -o many.jsonl
# Two records with at least two entities for the path case, keys not in whole.jsonl.
python3 - many.jsonl whole.jsonl >paths.jsonl <<'PY'
import json, sys
taken = {json.loads(l)["key"] for l in open(sys.argv[2])}
picked = [l for l in open(sys.argv[1])
          if json.loads(l)["key"] not in taken and len(json.loads(l)["value"].get("entities", [])) >= 2][:2]
if len(picked) < 2:
    sys.exit("rdapgen gave fewer than two records with two entities")
sys.stdout.write("".join(picked))
PY

# Seal with the file plugins (the sink's envelope output keeps key and version).
cat >seal.yaml <<YAML
state_dir: state-seal
pipelines:
  - name: whole
    source: { plugin: file, config: { path: whole.jsonl } }
    transforms: [ { plugin: encrypt, config: { keyring: "\${file:keyring}" } } ]
    sink: { plugin: file, config: { path: sealed-whole.jsonl, format: envelope } }
    errors: { tolerance: none }
  - name: paths
    source: { plugin: file, config: { path: paths.jsonl } }
    transforms: [ { plugin: encrypt, config: { keyring: "\${file:keyring}", paths: ["\$.entities[*].vcardArray"] } } ]
    sink: { plugin: file, config: { path: sealed-paths.jsonl, format: envelope } }
    errors: { tolerance: none }
YAML
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run seal.yaml >seal.log 2>&1 || { tail seal.log >&2; fail "sealing failed"; }

python3 "$HERE/tamper.py" whole sealed-whole.jsonl tampered-whole.jsonl >expect.tsv || fail "tamper.py whole"
python3 "$HERE/tamper.py" paths sealed-paths.jsonl tampered-paths.jsonl >>expect.tsv || fail "tamper.py paths"

TOPIC="crypt_tamper_$RUN_ID"
TABLE="crypt_tamper_$RUN_ID"
create_topic "$TOPIC" 1
cat tampered-whole.jsonl tampered-paths.jsonl >tampered.jsonl
"$FEED" --brokers "$BROKERS" --topic "$TOPIC" --format json tampered.jsonl >&2 || fail "feed failed"

cat >decrypt.yaml <<YAML
state_dir: state-dec
pipelines:
  - name: decrypt
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$TOPIC], group: "tamper_$RUN_ID", format: json } }
    transforms: [ { plugin: decrypt, config: { keyring: "\${file:keyring}" } } ]
    sink: { plugin: postgres, config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $TABLE } }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: dlq.jsonl, format: envelope } } }
YAML
bad="$(grep -vc $'\tok$' expect.tsv)"
good="$(grep -c $'\tok$' expect.tsv)"
table_rows() { pgq "SELECT count(*) FROM $TABLE" 2>/dev/null || echo 0; }
start_rdapsync decrypt.yaml decrypt.log
pid=$RDAPSYNC_PID
wait_for 120 "$bad dead letters" "$pid" decrypt.log lines_at_least "$bad" dlq.jsonl
wait_for 120 "$good rows" "$pid" decrypt.log bash -c "[[ \$(PGOPTIONS='-c client_min_messages=warning' psql -X -At '$RDAPSYNC_PG_DSN' -c 'SELECT count(*) FROM $TABLE' 2>/dev/null) == $good ]]"
stop_rdapsync "$pid" decrypt.log

[[ "$(file_lines dlq.jsonl)" -eq "$bad" ]] || fail "dlq.jsonl holds $(file_lines dlq.jsonl) lines, expected $bad"
[[ "$(table_rows)" -eq "$good" ]] || fail "$TABLE holds $(table_rows) rows, expected $good"
# Each record: intact ones in the table with their original document,
# tampered ones dead-lettered with their reason, never in the table.
while IFS=$'\t' read -r key reason; do
  if [[ "$reason" == ok ]]; then
    original="$(grep -h -F "\"key\":\"$key\"" whole.jsonl paths.jsonl | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.readline())["value"]))')"
    same="$(pgq "SELECT doc = \$json\$$original\$json\$::jsonb FROM $TABLE WHERE key = \$k\$$key\$k\$")"
    [[ "$same" == t ]] || fail "$key: the table does not hold its original document"
  else
    line="$(grep -F "\"key\":\"$key\"" dlq.jsonl)" || fail "$key: no dead letter"
    got="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["headers"]["rdapsync.error.reason"])' "$line")"
    [[ "$got" == *"decrypt: key $key: "*"$reason"* ]] || fail "$key: reason '$got' does not say 'decrypt: key $key: ... $reason'"
    [[ "$(pgq "SELECT count(*) FROM $TABLE WHERE key = \$k\$$key\$k\$")" == 0 ]] || fail "$key reached the table"
    log "$key: $got"
  fi
done <expect.tsv
# The dead letters hold the documents exactly as they came, still sealed:
# nothing was decrypted into them.
python3 - tampered.jsonl dlq.jsonl <<'PY' || fail "a dead letter is not the sealed document it came as"
import json, sys
fed = {}
for line in open(sys.argv[1]):
    rec = json.loads(line)
    fed[rec["key"]] = rec["value"]
for line in open(sys.argv[2]):
    rec = json.loads(line)
    if rec["value"] != fed[rec["key"]]:
        sys.exit(f"{rec['key']}: the dead letter's document differs from the sealed one")
PY
if grep -F '"key":"' whole.jsonl | cut -d'"' -f4 | grep -q -F -f - <(grep -e '"fn"' -e '"email"' dlq.jsonl); then
  fail "clear contact data in a dead letter of a record sealed whole"
fi

drop_tables "$TABLE"
log "PASS"
