#!/usr/bin/env bash
# History tables in the PostgreSQL sink (run_history.sh says what is proved).
source "$(dirname "$0")/../postgres/lib.sh"
TABLE="h_$RUN_ID"
HTABLE="${TABLE}_history"
CLEAN() { pgq "DROP VIEW IF EXISTS ${TABLE}_live; DROP TABLE IF EXISTS $TABLE, $HTABLE" >/dev/null 2>&1 || true; }
trap 'rc=$?; if [[ $rc -eq 0 ]]; then CLEAN; fi; (exit $rc); cleanup_work' EXIT
CLEAN

sink_block() { printf '{ plugin: postgres, config: { dsn: "${env:SINK_DSN}", table: %s, history: { table: %s } } }' \
  "$TABLE" "$HTABLE"; }
export_history() {
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -F $'\t' "$RDAPSYNC_PG_DSN" \
    -c "SELECT key, valid_from, origin, seq, valid_to, CASE WHEN deleted THEN 1 ELSE 0 END, doc FROM $HTABLE" >"$1"
}
count_history() { pgq "SELECT count(*) FROM $HTABLE" 2>/dev/null || echo 0; }
as_of() {
  pgq "SELECT count(*) FROM $HTABLE WHERE key = '$1' AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)
       AND NOT deleted"
}
live_current() {
  pgq "SELECT count(*) FROM $HTABLE h JOIN $TABLE d USING (key) WHERE h.valid_to IS NULL
       AND (h.valid_from, h.origin, h.seq) = (d.event_time_ms, d.origin, d.seq)"
}
live_count() { pgq "SELECT count(*) FROM $TABLE"; }
source "$(dirname "$0")/run_history.sh"
log "PASS"
