#!/usr/bin/env bash
# kafka -> encrypt -> kafka -> decrypt -> postgres (and a file), with a key
# rotation in the middle of the stream by SIGHUP: the records sealed with
# the old key before the rotation still decrypt after it. The middle topic
# holds nothing in clear; the decrypted documents are byte-identical to the
# same documents written without encryption, and the table ends at
# rdapgen's expected state (versions survived both hops).
TEST_NAME=crypt_round_trip
. "$(dirname "$0")/../kafka/lib.sh"

"$RDAPGEN" --format envelope --count 2000 --keys 500 --updates 0.4 --deletes 0.1 --duplicates 0.05 \
  --out-of-order 0.2 --origins 2 --size 1000 --seed 22 --expected expected.jsonl -o changes.jsonl
head -n 1000 changes.jsonl >part1.jsonl
tail -n +1001 changes.jsonl >part2.jsonl

IN="crypt_in_$RUN_ID"
MID="crypt_mid_$RUN_ID"
TABLE="crypt_$RUN_ID"
EXPECTED="crypt_exp_$RUN_ID"
create_topic "$IN" 3
create_topic "$MID" 4
load_expected "$WORK/expected.jsonl" "$EXPECTED"

# Messages a part becomes in the middle topic: one per change, plus the
# tombstone the Debezium source turns into a second delete.
messages_of() { echo $(( $(grep -c . "$1") + $(grep -c '"op":"delete"' "$1" || true) )); }
mid_count() { kcat -b "$BROKERS" -C -t "$MID" -o beginning -e -q -f 'x\n' | wc -l; }
mid_at_least() { [[ "$(mid_count)" -ge "$1" ]]; }

echo "k1:$(openssl rand -base64 32)" >keyring
chmod 600 keyring

cat >encrypt.yaml <<YAML
state_dir: state-enc
pipelines:
  - name: encrypt
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$IN], group: "enc_$RUN_ID", format: debezium } }
    transforms:
      - { plugin: encrypt, config: { keyring: "\${file:keyring}", compress: zstd } }
    sink: { plugin: kafka, config: { brokers: "$BROKERS", topic: $MID } }
    batch: { max_records: 200, max_wait: 100ms }
    errors: { tolerance: none }
YAML

"$FEED" --brokers "$BROKERS" --topic "$IN" --format debezium part1.jsonl >&2 || fail "feed failed"
start_rdapsync encrypt.yaml encrypt.log
enc=$RDAPSYNC_PID
wait_for 300 "part 1 sealed into $MID" "$enc" encrypt.log mid_at_least "$(messages_of part1.jsonl)"

# Rotation: k2 appended (newest last), the keyring reloaded by SIGHUP.
echo "k2:$(openssl rand -base64 32)" >>keyring
kill -HUP "$enc"
wait_for 120 "the encrypt pipeline to reopen with k2" "$enc" encrypt.log grep -q 'with key k2' encrypt.log
"$FEED" --brokers "$BROKERS" --topic "$IN" --format debezium part2.jsonl >&2 || fail "feed failed"
total="$(( $(messages_of part1.jsonl) + $(messages_of part2.jsonl) ))"
wait_for 300 "all changes sealed into $MID" "$enc" encrypt.log mid_at_least "$total"
stop_rdapsync "$enc" encrypt.log

# The middle topic: every document an envelope, both keys used, nothing in clear.
kcat -b "$BROKERS" -C -t "$MID" -o beginning -e -q -f '%s\n' >mid.jsonl
documents="$(grep -c '^{' mid.jsonl || true)"
[[ "$documents" -gt 0 ]] || fail "$MID holds no documents"
sealed="$(grep -c '^{"enc":"aes-256-gcm","kid":"k[12]","zip":"zstd","iv":"[^"]*","tag":"[^"]*","data":"[^"]*"}$' mid.jsonl || true)"
[[ "$sealed" -eq "$documents" ]] || fail "$((documents - sealed)) of $documents documents in $MID are not envelopes"
k1="$(grep -c '"kid":"k1"' mid.jsonl || true)"
k2="$(grep -c '"kid":"k2"' mid.jsonl || true)"
[[ "$k1" -gt 0 && "$k2" -gt 0 ]] || fail "expected envelopes of both keys, got k1=$k1 k2=$k2"
if grep -q -e vcardArray -e objectClassName mid.jsonl; then fail "clear text in $MID"; fi
log "$MID: $documents envelopes (k1 $k1, k2 $k2), nothing in clear"

cat >decrypt.yaml <<YAML
state_dir: state-dec
pipelines:
  - name: to-postgres
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$MID], group: "decpg_$RUN_ID", format: json } }
    transforms:
      - { plugin: decrypt, config: { keyring: "\${file:keyring}" } }
    sink: { plugin: postgres, config: { dsn: "\${env:RDAPSYNC_PG_DSN}", table: $TABLE } }
    batch: { max_records: 200, max_wait: 100ms }
    errors: { tolerance: none }
  - name: to-file
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$MID], group: "decfile_$RUN_ID", format: json } }
    transforms:
      - { plugin: decrypt, config: { keyring: "\${file:keyring}" } }
    sink: { plugin: file, config: { path: out/decrypted.jsonl, format: value } }
    errors: { tolerance: none }
  - name: plain-file
    source: { plugin: kafka, config: { brokers: "$BROKERS", topics: [$IN], group: "plain_$RUN_ID", format: debezium } }
    sink: { plugin: file, config: { path: out/plain.jsonl, format: value } }
    errors: { tolerance: none }
YAML
start_rdapsync decrypt.yaml decrypt.log
dec=$RDAPSYNC_PID
wait_for 300 "the table to reach the expected state" "$dec" decrypt.log state_matches "$TABLE" "$EXPECTED"
wait_for 300 "both files to hold every change" "$dec" decrypt.log \
  bash -c "[[ \$(cat out/decrypted.jsonl | wc -l) -ge $total && \$(cat out/plain.jsonl | wc -l) -ge $total ]]"
stop_rdapsync "$dec" decrypt.log

# Byte for byte: the decrypted documents are the documents as they came.
sort out/decrypted.jsonl >decrypted.sorted
sort out/plain.jsonl >plain.sorted
cmp -s decrypted.sorted plain.sorted || { diff decrypted.sorted plain.sorted | head -n 5 >&2; fail "decrypted documents differ from the plain ones"; }
log "table at the expected state; $(wc -l <decrypted.sorted) decrypted documents byte-identical to the plain ones"

drop_tables "$TABLE" "$EXPECTED" "${EXPECTED}_raw"
log "PASS"
