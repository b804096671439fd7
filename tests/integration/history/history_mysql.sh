#!/usr/bin/env bash
# History tables in the MySQL sink on MariaDB (run_history.sh says what is proved).
source "$(dirname "$0")/../mysql/lib.sh"
create_database
CLEANUPS+=("drop_database")

sink_block() { printf '{ plugin: mysql, config: { %s, table: domains, history: { table: domains_history } } }' \
  "$(sink_options)"; }
export_history() {
  myq "SELECT \`key\`, valid_from, origin, seq, valid_to, deleted, doc FROM domains_history" "$SINK_DB" >"$1"
}
count_history() { myq "SELECT count(*) FROM domains_history" "$SINK_DB" 2>/dev/null || echo 0; }
as_of() {
  myq "SELECT count(*) FROM domains_history WHERE \`key\` = '$1' AND valid_from <= $2
       AND (valid_to IS NULL OR valid_to > $2) AND NOT deleted" "$SINK_DB"
}
live_current() {
  myq "SELECT count(*) FROM domains_history h JOIN domains d USING (\`key\`) WHERE h.valid_to IS NULL
       AND (h.valid_from, h.origin, h.seq) = (d.event_time_ms, d.origin, d.seq)" "$SINK_DB"
}
live_count() { myq "SELECT count(*) FROM domains" "$SINK_DB"; }
source "$(dirname "$0")/run_history.sh"
log "PASS"
