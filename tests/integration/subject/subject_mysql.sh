#!/usr/bin/env bash
# Subject find/erase and retention purge in the MySQL/MariaDB sink, live
# rows and history (run_subject.sh says what is proved); the raw scan is
# mariadb-dump of the test's database.
source "$(dirname "$0")/../mysql/lib.sh"
create_database
CLEANUPS+=("drop_database")
sink_block() { printf '{ plugin: mysql, config: { %s, table: docs, history: { table: docs_history }%s } }' "$(sink_options)" "${SINK_EXTRA:-}"; }
raw_scan() {
  "$(command -v mariadb-dump || command -v mysqldump)" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" \
    -P "$RDAPSYNC_MYSQL_PORT" -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" --skip-extended-insert "$SINK_DB"
}
EXPECT_HISTORY=1
source "$(dirname "$0")/run_${SUBJECT_SCENARIO:-subject}.sh"
log "PASS"
