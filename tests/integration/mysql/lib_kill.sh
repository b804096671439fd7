# The conformance kit's --fail-cmd for the MySQL sink: kills every
# connection to the test's database ($SINK_DB) on the server. Sourced by
# `bash -c` with the test's environment; fails if there was none to kill.
set -euo pipefail
client="$(command -v mariadb || command -v mysql)"
q() {
  "$client" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" -P "$RDAPSYNC_MYSQL_PORT" \
    -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" -N -B -e "$1"
}
ids="$(q "SELECT id FROM information_schema.processlist WHERE db = '$SINK_DB' AND id <> CONNECTION_ID()")"
[ -n "$ids" ] || { echo "lib_kill: no connection to $SINK_DB to kill" >&2; exit 1; }
for id in $ids; do q "KILL CONNECTION $id" 2>/dev/null || true; done
