#!/usr/bin/env bash
# Subject find/erase and retention purge in the PostgreSQL sink, live rows
# and history (run_subject.sh says what is proved); the raw scan is pg_dump.
source "$(dirname "$0")/../postgres/lib.sh"
TABLE="s_$RUN_ID"
HTABLE="${TABLE}_history"
CLEAN() { pgq "DROP VIEW IF EXISTS ${TABLE}_live; DROP TABLE IF EXISTS $TABLE, $HTABLE, ${TABLE}_heads, ${TABLE}_conflicts" >/dev/null 2>&1 || true; }
trap 'rc=$?; if [[ $rc -eq 0 ]]; then CLEAN; fi; (exit $rc); cleanup_work' EXIT
CLEAN
sink_block() { printf '{ plugin: postgres, config: { dsn: "${env:SINK_DSN}", table: %s, history: { table: %s }%s } }' \
  "$TABLE" "$HTABLE" "${SINK_EXTRA:-}"; }
raw_scan() { pg_dump --data-only -t "$TABLE" -t "$HTABLE" -t "${TABLE}_conflicts" "$RDAPSYNC_PG_DSN"; }
EXPECT_HISTORY=1
LONE_HEAD_DOCLESS=1
source "$(dirname "$0")/run_${SUBJECT_SCENARIO:-subject}.sh"
log "PASS"
