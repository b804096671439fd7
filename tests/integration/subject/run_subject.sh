# The subject scenario, shared by subject_<sink>.sh; source it after
# defining:
#   sink_block     the pipeline's `sink:` value (YAML flow mapping)
#   raw_scan       prints everything the store holds, as raw as the store
#                  allows (a dump, the database files, the file bytes),
#                  the dead letters included
# and, optionally, DLQ_BLOCK (an `errors.dead_letter:` value: a line that
# is not JSON, about the subject, then goes there) and EXPECT_HISTORY=1.
# Writes documents about Maren Oakhurst (a unified domain in two versions,
# her entity, a raw RDAP response) and about two others; finds her by
# email; erases her (delete); finds nothing; the raw store holds none of her
# values and still the others'; a second erase changes nothing. Then an
# erasure by name with a rewrite (the other documents stay, redacted), and
# a retention purge of the one document past its deadline, each idempotent.

TOOL="$RDAPSYNC_BINARY_DIR/tests/integration/subject/subject_tool"
[[ -x "$TOOL" ]] || fail "subject_tool not built"

contact() { # handle name email phone
  printf '{"handle":"%s","roles":["registrant"],"kind":"individual","name":"%s","emails":["%s"],"phones":[{"number":"%s","types":["voice"]}]}' "$@"
}
domain() { # ldh until contact
  printf '{"rdapsync":{"schema":"rdapsync.unified/1","classification":"personal","retention_until":"%s"},"object_class":"domain","ldh_name":"%s","contacts":{"registrant":[%s]}}' "$2" "$1" "$3"
}
maren="$(contact C20117001-EXAMPLE "Maren Oakhurst" maren@larkspur-bindery.example +1.5555550234)"
yusuf="$(contact C20117003-EXAMPLE "Yusuf Brannigan" yusuf@tallgrass-hosting.example +1.5555550246)"
anouk="$(contact C20117009-EXAMPLE "Anouk Delacroix" anouk@correio.example +351.225550188)"
raw_rdap='{"objectClassName":"domain","ldhName":"raw.example","entities":[{"objectClassName":"entity","handle":"X-1","vcardArray":["vcard",[["version",{},"text","4.0"],["fn",{},"text","Maren Oakhurst"],["tel",{"type":"voice"},"uri","tel:+1.5555550234"],["email",{},"text","maren@larkspur-bindery.example"]]]}]}'
line() { printf '{"key":"%s","op":"upsert","ts_ms":%s,"origin":"t","seq":%s,"value":%s}\n' "$@"; }
{
  line domain/larkspur-bindery.example 1000 1 "$(domain larkspur-bindery.example 2099-01-01T00:00:00Z "$maren")"
  line domain/larkspur-bindery.example 2000 2 "$(domain larkspur-bindery.example 2099-02-01T00:00:00Z "$maren")"
  line entity/C20117001-EXAMPLE 1000 3 "{\"object_class\":\"entity\",\"handle\":\"C20117001-EXAMPLE\",\"entity\":$maren}"
  line domain/raw.example 1000 4 "$raw_rdap"
  line domain/tallgrass.example 1000 5 "$(domain tallgrass.example 2099-01-01T00:00:00Z "$yusuf")"
  line domain/correio.example 1000 6 "$(domain correio.example 2020-01-01T00:00:00Z "$anouk")"
  # A line that is not JSON: a dead letter with the raw bytes, when the
  # pipeline has a dead-letter sink.
  [[ -z "${DLQ_BLOCK:-}" ]] || printf '%s\n' '{"key":"domain/broken.example","value":{"emails":["maren@larkspur-bindery.example"]'
} >docs.jsonl
errors=""
[[ -z "${DLQ_BLOCK:-}" ]] || errors="    errors: { tolerance: all, dead_letter: $DLQ_BLOCK }"
cat >s.yaml <<YAML
state_dir: $WORK/state
pipelines:
  - name: subject
    source: { plugin: file, config: { path: "$WORK/docs.jsonl" } }
    sink: $(sink_block)
    batch: { max_records: 2, max_wait: 50ms }
$errors
YAML
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run s.yaml >run.log 2>&1 || { tail -20 run.log >&2; fail "the run failed"; }

tool() { "$TOOL" s.yaml "$@" 2>tool.err || { cat tool.err >&2; fail "subject_tool $*"; }; }
hits() { tool find "$1" | wc -l; }
scan_has() { raw_scan | grep -a -c -i -F -- "$1" || true; }

n="$(hits email:Maren@Larkspur-Bindery.example)"
tool find email:Maren@Larkspur-Bindery.example | cut -f3,4 >&2
(( n >= 3 )) || fail "find saw $n documents about the subject, expected the domain, the entity and the raw response"
if [[ "${EXPECT_HISTORY:-0}" == 1 ]]; then
  tool find email:maren@larkspur-bindery.example | cut -f3 | grep -qx history || fail "find did not reach history"
fi
for value in maren@larkspur-bindery.example Oakhurst 5555550234; do
  (( $(scan_has "$value") > 0 )) || fail "the raw scan does not see '$value' before the erasure (scan broken?)"
done
others_before="$(tool find email:yusuf@tallgrass-hosting.example; tool find email:anouk@correio.example)"
log "found $n documents about the subject"

log "erase (delete)"
[[ "$(tool erase email:maren@larkspur-bindery.example)" == "changed $n" ]] || fail "erase did not change the $n found"
(( $(hits email:maren@larkspur-bindery.example) == 0 )) || fail "find still sees the subject after the erasure"
for value in maren@larkspur-bindery.example Oakhurst 5555550234 C20117001-EXAMPLE; do
  (( $(scan_has "$value") == 0 )) || fail "the raw scan still holds '$value' after the erasure"
done
[[ "$(tool find email:yusuf@tallgrass-hosting.example; tool find email:anouk@correio.example)" == "$others_before" ]] ||
  fail "the other documents changed"
[[ "$(tool erase email:maren@larkspur-bindery.example)" == "changed 0" ]] || fail "a second erase changed something"
log "erased: no trace in the raw store, others untouched, a second erase changes nothing"

log "erase (rewrite) by name"
[[ "$(tool erase 'name:Yusuf Brannigan' redact)" =~ ^changed\ [1-9] ]] || fail "the rewrite changed nothing"
(( $(hits 'name:Yusuf Brannigan') == 0 )) || fail "find still sees the name after the rewrite"
(( $(scan_has Brannigan) == 0 )) || fail "the raw scan still holds the name after the rewrite"
(( $(hits email:yusuf@tallgrass-hosting.example) >= 1 )) || fail "the rewritten document is gone instead of redacted"
[[ "$(tool erase 'name:Yusuf Brannigan' redact)" == "changed 0" ]] || fail "a second rewrite changed something"

log "retention purge"
now=$(( $(date +%s) * 1000 ))
purged="$(tool purge "$now")"
[[ "$purged" =~ ^purged\ [1-9] ]] || fail "the purge removed nothing ($purged)"
(( $(scan_has anouk@correio.example) == 0 )) || fail "the document past its deadline is still stored"
(( $(hits email:yusuf@tallgrass-hosting.example) >= 1 )) || fail "the purge removed a document before its deadline"
[[ "$(tool purge "$now")" == "purged 0" ]] || fail "a second purge removed something"
log "purge: $purged, a second purge removes nothing"
