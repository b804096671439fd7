#!/usr/bin/env bash
# Multi-region convergence: three regions' streams with version vectors
# (regions.py gen), each replica (SQLite, PostgreSQL) receiving all three in
# its own random order with 10% duplicates, under each conflict strategy,
# with several kill -9s of rdapsync on the way. At the end every replica of
# a strategy shows byte-identical visible documents (canonical dump) equal
# to the ones the heads give by definition (regions.py expect), the heads
# tables are byte-identical across replicas, and every conflict log lists
# exactly the keys left with concurrent heads: none missed, none spurious.
source "$RDAPSYNC_SOURCE_DIR/tests/integration/postgres/lib.sh"

rg() { python3 "$RDAPSYNC_SOURCE_DIR/tests/integration/multiregion/regions.py" "$@"; }
strategies=(lww region-priority merge manual)
priority="[ap, eu, us]"

rg gen streams --keys 300 --writes "${MR_WRITES:-6000}" --conflict-rate 0.3 --seed 15
rg open-keys streams >open.expected
(( $(wc -l <open.expected) > 0 )) || fail "the streams left no key in conflict: nothing is tested"

table_of() { printf 'mr_%s_%s' "$RUN_ID" "${1//-/_}"; }
conflicts_block() {
  if [[ $1 == region-priority ]]; then
    printf '{ strategy: %s, regions: %s }' "$1" "$priority"
  else
    printf '{ strategy: %s }' "$1"
  fi
}

seed=100
{
  echo "state_dir: $WORK/state"
  echo "pipelines:"
  for s in "${strategies[@]}"; do
    for sink in sqlite postgres; do
      seed=$((seed + 1))
      rg replica streams "$seed" "in-$sink-$s.jsonl"
      if [[ $sink == sqlite ]]; then
        block="{ plugin: sqlite, config: { path: \"$WORK/out/$s.db\", table: rdap, conflicts: $(conflicts_block "$s") } }"
      else
        block="{ plugin: postgres, config: { dsn: \"\${env:SINK_DSN}\", table: $(table_of "$s"), exactly_once: true, conflicts: $(conflicts_block "$s") } }"
      fi
      cat <<YAML
  - name: $sink-$s
    source: { plugin: file, config: { path: "$WORK/in-$sink-$s.jsonl" } }
    sink: $block
    batch: { max_records: 40, max_wait: 20ms }
    errors: { tolerance: none }
YAML
    done
  done
} >mr.yaml
"$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" validate mr.yaml >/dev/null || fail "validate refused mr.yaml"

kills=0
for attempt in $(seq 1 40); do
  (( kills < ${MR_KILLS:-4} )) || break
  "$RDAPSYNC_BIN" --plugin-path "$RDAPSYNC_PLUGIN_PATH" run mr.yaml >>kills.log 2>&1 &
  pid=$!
  sleep "0.$(( 2 + RANDOM % 6 ))"
  if kill -9 "$pid" 2>/dev/null; then
    kills=$((kills + 1))
    log "kill $kills"
  fi
  status=0
  wait "$pid" 2>/dev/null || status=$?
  (( status == 0 || status == 137 )) || { tail -20 kills.log >&2; fail "a run exited $status before its kill"; }
done
(( kills >= 2 )) || fail "only $kills kills landed"
rdapsync_run mr.yaml final.log || { tail -30 final.log >&2; fail "the run after the kills failed"; }

sqlite_rows() { python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}

for s in "${strategies[@]}"; do
  t=$(table_of "$s")
  extra=()
  [[ $s == region-priority ]] && extra=(ap eu us)
  rg expect streams "$s" "${extra[@]}" >"expected-$s.tsv"
  sqlite_rows "out/$s.db" "SELECT key, deleted, doc FROM rdap" | rg canon >"sqlite-$s.tsv"
  pgq "SELECT key, deleted, doc::text FROM $t" | rg canon >"postgres-$s.tsv"
  cmp -s "sqlite-$s.tsv" "postgres-$s.tsv" || { diff "sqlite-$s.tsv" "postgres-$s.tsv" | head >&2; fail "$s: the replicas differ"; }
  cmp -s "expected-$s.tsv" "sqlite-$s.tsv" || { diff "expected-$s.tsv" "sqlite-$s.tsv" | head >&2; fail "$s: the visible documents are not the heads' ($s)"; }

  sqlite_rows "out/$s.db" "SELECT key, heads FROM rdap_heads" | LC_ALL=C sort >"heads-sqlite-$s.txt"
  pgq "SELECT key || '|' || heads FROM ${t}_heads" | LC_ALL=C sort >"heads-postgres-$s.txt"
  cmp -s "heads-sqlite-$s.txt" "heads-postgres-$s.txt" || fail "$s: the heads tables differ between replicas"

  sqlite_rows "out/$s.db" "SELECT key FROM rdap_conflicts WHERE resolved_at IS NULL" | LC_ALL=C sort >"open-sqlite-$s.txt"
  pgq "SELECT key FROM ${t}_conflicts WHERE resolved_at IS NULL" | LC_ALL=C sort >"open-postgres-$s.txt"
  for replica in sqlite postgres; do
    missed=$(comm -23 open.expected "open-$replica-$s.txt" | wc -l)
    spurious=$(comm -13 open.expected "open-$replica-$s.txt" | wc -l)
    (( missed == 0 && spurious == 0 )) || fail "$s/$replica conflict log: $missed missed, $spurious spurious"
  done
  resolved=$(pgq "SELECT count(*) FROM ${t}_conflicts WHERE resolved_at IS NOT NULL")
  (( resolved > 0 )) || fail "$s: no conflict was resolved: resolution is not exercised"
  log "$s: $(wc -l <"expected-$s.tsv") keys equal on both replicas, $(wc -l <open.expected) open conflicts, $resolved resolved"
  pgq "DROP TABLE $t, ${t}_heads, ${t}_conflicts CASCADE" >/dev/null
done
pgq "DELETE FROM rdapsync_positions WHERE pipeline LIKE 'postgres-%'" >/dev/null || true
echo "PASS multiregion convergence ($kills kills)"
