#!/usr/bin/env bash
# Subject find/erase and retention purge in the file sink, and in a file
# dead-letter sink holding the raw bytes of an unreadable line about the
# subject (run_subject.sh says what is proved). The raw scan is the files'
# bytes; the rewrite is atomic (no temporary file left behind).
source "$(dirname "$0")/lib.sh"
sink_block() { printf '{ plugin: file, config: { path: "%s/out.jsonl", format: envelope } }' "$WORK"; }
DLQ_BLOCK="{ plugin: file, config: { path: \"$WORK/dlq.jsonl\" }, protect: none }"
raw_scan() { cat out.jsonl dlq.jsonl; }
source "$(dirname "$0")/run_subject.sh"
tool find email:nobody@example.net >/dev/null
[[ ! -e out.jsonl.erase.tmp && ! -e dlq.jsonl.erase.tmp ]] || fail "a temporary file was left behind"
grep -q '"op":"upsert"' out.jsonl || fail "the envelopes lost their shape"
log "PASS"
