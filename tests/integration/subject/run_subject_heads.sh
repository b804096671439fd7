# The subject scenario inside the multi-value register (conflicts: {...}),
# shared by subject_<sink>.sh when SUBJECT_SCENARIO=subject_heads; the sink
# script defines sink_block and raw_scan as for run_subject.sh, and
# sink_block appends $SINK_EXTRA to the sink's config.
# Writes concurrent versions (version vectors of two regions): a key whose
# two heads are both about Maren Oakhurst, a key with one head about her and
# one about Yusuf Brannigan, and a key about Yusuf alone. find reaches the
# heads; an erasure (delete) leaves no value of hers in the raw store (the
# heads included) and keeps Yusuf's head and every version (heads marked
# "erased"); a second erase changes nothing; a replay of her version is
# stale, so the next sync does not bring her back into the heads. Then a
# retention purge reaches a head past its deadline.

TOOL="$RDAPSYNC_BINARY_DIR/tests/integration/subject/subject_tool"
[[ -x "$TOOL" ]] || fail "subject_tool not built"
SINK_EXTRA=", conflicts: { strategy: lww }"

contact() { # handle name email phone
  printf '{"handle":"%s","roles":["registrant"],"kind":"individual","name":"%s","emails":["%s"],"phones":[{"number":"%s","types":["voice"]}]}' "$@"
}
domain() { # ldh until contact
  printf '{"rdapsync":{"schema":"rdapsync.unified/1","classification":"personal","retention_until":"%s"},"object_class":"domain","ldh_name":"%s","contacts":{"registrant":[%s]}}' "$2" "$1" "$3"
}
maren="$(contact C20117001-EXAMPLE "Maren Oakhurst" maren@larkspur-bindery.example +1.5555550234)"
yusuf="$(contact C20117003-EXAMPLE "Yusuf Brannigan" yusuf@tallgrass-hosting.example +1.5555550246)"
anouk="$(contact C20117009-EXAMPLE "Anouk Delacroix" anouk@correio.example +351.225550188)"
line() { # key ts origin seq vv value
  printf '{"key":"%s","op":"upsert","ts_ms":%s,"origin":"%s","seq":%s,"vv":%s,"value":%s}\n' "$@"
}
maren_on_mixed="$(line domain/mixed.example 2000 us 4 '{"us":1}' "$(domain mixed.example 2099-01-01T00:00:00Z "$maren")")"
{
  line domain/larkspur-bindery.example 1000 eu 1 '{"eu":1}' "$(domain larkspur-bindery.example 2099-01-01T00:00:00Z "$maren")"
  line domain/larkspur-bindery.example 2000 us 2 '{"us":1}' "$(domain larkspur-bindery.example 2099-02-01T00:00:00Z "$maren")"
  line domain/mixed.example 1000 eu 3 '{"eu":1}' "$(domain mixed.example 2099-01-01T00:00:00Z "$yusuf")"
  printf '%s\n' "$maren_on_mixed"
  line domain/tallgrass.example 1000 eu 5 '{"eu":1}' "$(domain tallgrass.example 2099-01-01T00:00:00Z "$yusuf")"
  line domain/correio.example 1000 eu 6 '{"eu":1}' "$(domain correio.example 2099-01-01T00:00:00Z "$yusuf")"
  line domain/correio.example 1500 us 7 '{"us":1}' "$(domain correio.example 2020-01-01T00:00:00Z "$anouk")"
} >docs.jsonl
cat >s.yaml <<YAML
state_dir: $WORK/state
pipelines:
  - name: subject
    source: { plugin: file, config: { path: "$WORK/docs.jsonl" } }
    sink: $(sink_block)
    batch: { max_records: 2, max_wait: 50ms }
YAML
run() { "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run s.yaml >run.log 2>&1 || { tail -20 run.log >&2; fail "the run failed"; }; }
run

tool() { "$TOOL" s.yaml "$@" 2>tool.err || { cat tool.err >&2; fail "subject_tool $*"; }; }
hits() { tool find "$1" | wc -l; }
scan_has() { raw_scan | grep -a -c -i -F -- "$1" || true; }

where="$(tool find email:maren@larkspur-bindery.example | cut -f3 | sort | uniq -c)"
log "hits by place: $(tr '\n' ' ' <<<"$where")"
tool find email:maren@larkspur-bindery.example | cut -f3 | grep -qx heads || fail "find did not reach the heads"
(( $(tool find email:maren@larkspur-bindery.example | cut -f3 | grep -cx heads) == 2 )) ||
  fail "find saw the heads of other than the two keys with a head about the subject"
for value in maren@larkspur-bindery.example Oakhurst 5555550234; do
  (( $(scan_has "$value") > 0 )) || fail "the raw scan does not see '$value' before the erasure (scan broken?)"
done

log "erase (delete)"
out="$(tool erase email:maren@larkspur-bindery.example)"
[[ "$out" =~ ^changed\ [1-9] ]] || fail "erase changed nothing ($out)"
(( $(hits email:maren@larkspur-bindery.example) == 0 )) || fail "find still sees the subject after the erasure"
for value in maren@larkspur-bindery.example Oakhurst 5555550234 C20117001-EXAMPLE; do
  (( $(scan_has "$value") == 0 )) || fail "the raw scan still holds '$value' after the erasure (heads or log)"
done
(( $(scan_has erased) > 0 )) || fail "no head is marked erased: the versions were dropped?"
# Two keys hold Yusuf beside another head; tallgrass.example has him as its
# lone head, which a sink that loads rows (LONE_HEAD_DOCLESS=1) stores
# without its document (the row shows it), so find sees it in the row only.
(( $(tool find email:yusuf@tallgrass-hosting.example | cut -f3 | grep -cx heads) == 3 - ${LONE_HEAD_DOCLESS:-0} )) ||
  fail "the other subject's heads were touched"
[[ "$(tool erase email:maren@larkspur-bindery.example)" == "changed 0" ]] || fail "a second erase changed something"
log "erased: no trace in the raw store, the heads kept as versions, a second erase changes nothing"

log "a replay of the erased version is stale"
printf '%s\n' "$maren_on_mixed" >>docs.jsonl
run
(( $(scan_has maren@larkspur-bindery.example) == 0 )) || fail "the replayed version brought the subject back"
(( $(hits email:yusuf@tallgrass-hosting.example) >= 3 )) || fail "the replay lost the other subject's documents"

log "retention purge reaches a head past its deadline"
now=$(( $(date +%s) * 1000 ))
purged="$(tool purge "$now")"
[[ "$purged" =~ ^purged\ [1-9] ]] || fail "the purge removed nothing ($purged)"
(( $(scan_has anouk@correio.example) == 0 )) || fail "the head past its deadline is still stored"
(( $(tool find email:yusuf@tallgrass-hosting.example | cut -f4 | grep -c correio) >= 1 )) ||
  fail "the purge removed the concurrent head before its deadline"
[[ "$(tool purge "$now")" == "purged 0" ]] || fail "a second purge removed something"
log "purge: $purged, a second purge removes nothing"
