#!/usr/bin/env bash
# The sink conformance kit (sdk/testkit) on the MySQL sink against the real
# MariaDB server, with both document column types and each write method
# (insert, the default: statements only; auto: LOAD DATA for new keys;
# load: LOAD DATA for every batch). --fail-cmd kills the
# sink's own connections on the server, so the retry case runs against a
# real connection loss.
TEST_NAME=mysql_conformance
. "$(dirname "$0")/lib.sh"

KIT="$RDAPSYNC_BINARY_DIR/sdk/testkit/rdapsync-sink-testkit"
HOOK="$RDAPSYNC_BINARY_DIR/tests/integration/mysql/testkit-hook-mysql.so"
SINK="$RDAPSYNC_PLUGIN_PATH/sink-mysql.so"
[[ -x "$KIT" ]] || fail "$KIT not built"
[[ -f "$HOOK" ]] || fail "$HOOK not built"
create_database
CLEANUPS+=("drop_database")

TABLE=kit_records
options="$(sink_options)"
printf '{ %s, table: %s }\n' "$options" "$TABLE" >sink.yaml
# Configurations open must refuse, each for its own reason.
printf '{ %s, port: 1, connect_timeout: 2s }\n' "$(sink_options | sed 's/, port: "[^"]*"//')" >bad-unreachable.yaml
printf '{ %s }\n' "$(sink_options | sed 's/password: "[^"]*"/password: "not-the-password"/')" >bad-password.yaml
printf '{ %s }\n' "$(sink_options | sed 's/database: "[^"]*"/database: "no_such_database_here"/')" >bad-database.yaml
printf '{ %s, mode: merge }\n' "$options" >bad-mode.yaml
printf '{ %s, table: %s }\n' "$options" "$(printf 't%.0s' $(seq 1 62))" >bad-long-table.yaml
printf '{ %s, table: missing, create_table: false }\n' "$options" >bad-missing-table.yaml
printf '{ host: 127.0.0.1, user: x }\n' >bad-missing-database.yaml
FAIL_CMD="bash -c '. \"$RDAPSYNC_SOURCE_DIR/tests/integration/mysql/lib_kill.sh\"'"

run_kit() {
  local label="$1"; shift
  local out="kit-$label.out"
  log "conformance kit: $label"
  if ! "$KIT" --plugin "$SINK" --config sink.yaml --hook "$HOOK" --hook-arg "$SINK_DB.$TABLE" \
        --bad-config bad-unreachable.yaml --bad-config bad-password.yaml --bad-config bad-database.yaml \
        --bad-config bad-mode.yaml --bad-config bad-long-table.yaml --bad-config bad-missing-table.yaml \
        --bad-config bad-missing-database.yaml \
        --fail-cmd "$FAIL_CMD" "$@" >"$out" 2>"kit-$label.err"; then
    cat "$out" >&2
    tail -n 20 "kit-$label.err" >&2
    fail "the conformance kit failed ($label)"
  fi
  cat "$out" >&2
  if grep -q '^SKIP' "$out"; then fail "a case was skipped ($label): every case must run here"; fi
  tail -n 1 "$out" | grep -Eq '^[1-9][0-9]* passed, 0 failed$' || fail "unexpected summary ($label)"
}

run_kit json
printf '{ %s, table: %s, doc_type: longtext, statement_rows: 37 }\n' "$options" "$TABLE" >sink.yaml
run_kit longtext-small-statements --large-batch 2000
printf '{ %s, table: %s, exactly_once: true }\n' "$options" "$TABLE" >sink.yaml
run_kit exactly-once --large-batch 2000
printf '{ %s, table: %s, method: auto }\n' "$options" "$TABLE" >sink.yaml
run_kit method-auto --large-batch 2000
printf '{ %s, table: %s, method: auto, exactly_once: true }\n' "$options" "$TABLE" >sink.yaml
run_kit method-auto-exactly-once --large-batch 2000
printf '{ %s, table: %s, method: load, doc_type: longtext, statement_rows: 37 }\n' "$options" "$TABLE" >sink.yaml
run_kit method-load --large-batch 2000
log "PASS"
