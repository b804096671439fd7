#!/usr/bin/env bash
# Subject find/erase and retention purge in the SQLite sink, live rows and
# history (run_subject.sh says what is proved). The raw scan reads the
# database file and its -wal byte for byte: secure_delete and the TRUNCATE
# checkpoint must leave no erased byte in free pages or the WAL.
source "$(dirname "$0")/lib.sh"
sink_block() { printf '{ plugin: sqlite, config: { path: "%s/s.db", history: { table: docs_history }%s } }' "$WORK" "${SINK_EXTRA:-}"; }
raw_scan() { cat s.db; [[ ! -e s.db-wal ]] || cat s.db-wal; }
EXPECT_HISTORY=1
source "$(dirname "$0")/run_${SUBJECT_SCENARIO:-subject}.sh"
log "PASS"
