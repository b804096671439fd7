#!/usr/bin/env bash
# Subject find/erase and retention purge in the MongoDB sink on FerretDB
# (run_subject.sh says what is proved); the raw scan is a find of the whole
# collection, its heads and conflict log as stored (mongo-export --raw).
source "$(dirname "$0")/../mongodb/lib.sh"
COLL="s_$RUN_ID"
drop_collections "$COLL" "${COLL}_heads" "${COLL}_conflicts"
trap 'rc=$?; if [[ $rc -eq 0 ]]; then drop_collections "$COLL" "${COLL}_heads" "${COLL}_conflicts"; fi; (exit $rc); cleanup_work' EXIT
sink_block() { printf '{ plugin: mongodb, config: { uri: "${env:RDAPSYNC_MONGO_URI}", database: %s, collection: %s%s } }' \
  "$DB" "$COLL" "${SINK_EXTRA:-}"; }
raw_scan() { local c; for c in "$COLL" "${COLL}_heads" "${COLL}_conflicts"; do "$MONGO_EXPORT" --raw "$RDAPSYNC_MONGO_URI" "$DB" "$c"; done; }
source "$(dirname "$0")/run_${SUBJECT_SCENARIO:-subject}.sh"
log "PASS"
