# The history scenario, shared by history_postgres.sh and history_mysql.sh;
# source it after defining:
#   sink_block            the pipeline's `sink:` value (YAML flow mapping)
#   export_history FILE   the history table as history_check.py reads it
#   count_history         the number of history rows (0 when the table is missing)
#   as_of KEY MS          how many non-deleted versions of KEY are valid at MS
#   live_current          how many live rows are the current version of their history
#   live_count            how many live (non-tombstone and tombstone) rows the table has
# rdapgen's changes (updates, deletes, out-of-order versions, duplicates):
# a kill -9 in the middle and a run to the end, then a replay of everything
# with the state removed: every version once, valid_to chained, deletes
# closing intervals, no duplicate after the replays.

checker="$RDAPSYNC_SOURCE_DIR/tests/e2e/evolve/history_check.py"
"$(rdapgen_bin)" --format envelope --classes mixed --count 4000 --keys 300 --updates 0.4 --deletes 0.08 \
  --duplicates 0.07 --out-of-order 0.15 --origins 2 --size 1024 --seed 16 -o changes.jsonl
cat >h.yaml <<YAML
state_dir: $WORK/state
pipelines:
  - name: history
    source: { plugin: file, config: { path: "$WORK/changes.jsonl" } }
    sink: $(sink_block)
    batch: { max_records: 100, max_wait: 50ms }
YAML
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" validate h.yaml >/dev/null || fail "validate refused h.yaml"

log "kill -9 while it writes"
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run h.yaml >kill.log 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  (( $(count_history) > 0 )) && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
log "killed after $(count_history) history rows"
rdapsync_run h.yaml run1.log || { tail -20 run1.log >&2; fail "the run after the kill failed"; }
export_history export1.tsv
python3 "$checker" changes.jsonl export1.tsv || fail "history after kill -9 and restart"

log "a replay of everything (state removed) adds no history row"
rm -rf "$WORK/state"
rdapsync_run h.yaml run2.log || { tail -20 run2.log >&2; fail "the replay failed"; }
export_history export2.tsv
cmp -s <(sort export1.tsv) <(sort export2.tsv) || fail "the replay changed the history table"

log "as of: a key's first version is valid just after its event time"
read -r key t < <(python3 - changes.jsonl <<'PY'
import json, sys
first = {}
count = {}
for line in open(sys.argv[1]):
    c = json.loads(line)
    v = (int(c["ts_ms"]), (c.get("origin") or "").encode(), int(c["seq"]))
    count[c["key"]] = count.get(c["key"], set()) | {v}
    if c["op"] == "upsert" and (c["key"] not in first or v < first[c["key"]]):
        first[c["key"]] = v
for k in sorted(first):
    if len(count[k]) > 2 and all(x[0] != first[k][0] + 1 for x in count[k]):
        print(k, first[k][0] + 1)
        break
PY
)
[[ -n "$key" ]] || fail "no key with three versions"
[[ "$(as_of "$key" "$t")" == 1 ]] || fail "the as-of query for $key at $t did not find exactly one version"
[[ "$(live_current)" == "$(live_count)" ]] || fail "not every live row is the current version of its history"
log "ok: as of $t, $key has one version; $(live_count) live rows are their keys' current versions"
