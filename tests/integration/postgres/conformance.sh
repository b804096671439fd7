#!/usr/bin/env bash
# The sink conformance kit (sdk/testkit) on the PostgreSQL sink, twice:
# with the read-back hook .so (testkit_hook.c) and with psql commands, the
# two ways docs/testkit.md offers. --fail-cmd terminates the sink's own
# sessions, so the retry case runs against the real server.
TEST_NAME=postgres_conformance
. "$(dirname "$0")/lib.sh"

KIT="$RDAPSYNC_BINARY_DIR/sdk/testkit/rdapsync-sink-testkit"
HOOK="$RDAPSYNC_BINARY_DIR/tests/integration/postgres/testkit-hook-postgres.so"
SINK="$RDAPSYNC_PLUGIN_PATH/sink-postgres.so"
[[ -x "$KIT" ]] || fail "$KIT not built"
[[ -f "$HOOK" ]] || fail "$HOOK not built"
[[ -f "$SINK" ]] || fail "$SINK not built"

TABLE="kit_$RUN_ID"
cat >sink.yaml <<YAML
dsn: "\${env:SINK_DSN}"
table: $TABLE
YAML
# Configurations open must refuse, each for its own reason.
cat >bad-unreachable.yaml <<'YAML'
dsn: "host=127.0.0.1 port=1 dbname=rdapsync connect_timeout=2"
YAML
cat >bad-keyword.yaml <<'YAML'
dsn: "host=127.0.0.1 no_such_keyword=1"
YAML
cat >bad-mode.yaml <<'YAML'
dsn: "${env:SINK_DSN}"
mode: merge
YAML
cat >bad-missing-dsn.yaml <<'YAML'
table: nowhere
YAML
cat >bad-long-table.yaml <<YAML
dsn: "\${env:SINK_DSN}"
table: $(printf 't%.0s' $(seq 1 70))
YAML
cat >bad-missing-table.yaml <<YAML
dsn: "\${env:SINK_DSN}"
table: missing_$RUN_ID
create_table: false
YAML
FAIL_CMD="psql -X -q -At '$RDAPSYNC_PG_DSN' -c \"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '$APP_NAME'\" >/dev/null"

run_kit() {
  local label="$1"; shift
  local out="kit-$label.out"
  log "conformance kit, read-back through $label"
  if ! "$KIT" --plugin "$SINK" --config sink.yaml --hook-arg "$TABLE" \
        --bad-config bad-unreachable.yaml --bad-config bad-keyword.yaml --bad-config bad-mode.yaml \
        --bad-config bad-missing-dsn.yaml --bad-config bad-long-table.yaml --bad-config bad-missing-table.yaml \
        --fail-cmd "$FAIL_CMD" "$@" >"$out" 2>"kit-$label.err"; then
    cat "$out" >&2
    tail -n 20 "kit-$label.err" >&2
    fail "the conformance kit failed ($label)"
  fi
  cat "$out" >&2
  grep -q '^SKIP' "$out" && fail "a case was skipped ($label): every case must run here"
  tail -n 1 "$out" | grep -Eq '^[1-9][0-9]* passed, 0 failed$' || fail "unexpected summary ($label)"
}

run_kit hook --hook "$HOOK"

# COPY ... TO STDOUT hands over the bytes as stored; psql's own table
# printing would drop characters it deems unprintable (U+10FFFF). The CSV
# quote and delimiter are bytes JSON text never contains.
READBACK="psql -X -q '$RDAPSYNC_PG_DSN' -c \"COPY (SELECT json_build_object('key', key, 'value', doc) FROM \$RDAPSYNC_TESTKIT_ARG WHERE NOT deleted) TO STDOUT WITH (FORMAT csv, QUOTE e'\\\\x01', DELIMITER e'\\\\x02')\""
RESET="PGOPTIONS='-c client_min_messages=warning' psql -X -q -At '$RDAPSYNC_PG_DSN' -c \"DROP TABLE IF EXISTS \$RDAPSYNC_TESTKIT_ARG CASCADE\""
run_kit commands --reset-cmd "$RESET" --readback-cmd "$READBACK" --large-batch 1000

# The other write path (method: pipeline) must keep the same promises.
sed -i '$a method: pipeline' sink.yaml
run_kit pipeline-method --hook "$HOOK" --large-batch 2000

# So must several connections writing at once (connections: 3), both paths.
sed -i '$a connections: 3' sink.yaml
run_kit pipeline-connections --hook "$HOOK" --large-batch 2000
sed -i '/^method: pipeline$/d' sink.yaml
run_kit copy-connections --hook "$HOOK" --large-batch 2000
sed -i '/^connections: 3$/d' sink.yaml

# The kit must notice a target that loses changes: the same sink, but the
# reset recreates the table with a trigger that silently drops every UPDATE
# (new keys still land, newer versions and deletes never do).
cat >reset-sabotaged.sh <<SH
PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 '$RDAPSYNC_PG_DSN' <<'SQL'
DROP TABLE IF EXISTS $TABLE CASCADE;
CREATE TABLE $TABLE (key text PRIMARY KEY, doc jsonb, deleted boolean NOT NULL DEFAULT false,
  event_time_ms bigint NOT NULL, origin text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
  src_stream text, src_partition integer, src_offset bigint, updated_at timestamptz NOT NULL DEFAULT now());
CREATE OR REPLACE FUNCTION ${TABLE}_drop_update() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NULL; END \$\$;
CREATE TRIGGER drop_update BEFORE UPDATE ON $TABLE FOR EACH ROW EXECUTE FUNCTION ${TABLE}_drop_update();
SQL
SH
log "the kit against a table that drops updates (must fail)"
status=0
"$KIT" --plugin "$SINK" --config sink.yaml --hook-arg "$TABLE" --reset-cmd "bash '$WORK/reset-sabotaged.sh'" \
  --readback-cmd "$READBACK" --only write_flush_read_back --only shuffled_replays_converge \
  --only deletes_without_resurrection >kit-sabotaged.out 2>kit-sabotaged.err || status=$?
cat kit-sabotaged.out >&2
[[ "$status" == 1 ]] || fail "the kit exited $status on a target that drops updates"
grep -q '^PASS write_flush_read_back$' kit-sabotaged.out || fail "new keys still land: write_flush_read_back should pass"
grep -q '^FAIL shuffled_replays_converge: ' kit-sabotaged.out || fail "the kit missed lost updates"
grep -q '^FAIL deletes_without_resurrection: ' kit-sabotaged.out || fail "the kit missed lost deletes"
tail -n 1 kit-sabotaged.out | grep -qx '1 passed, 2 failed' || fail "unexpected summary on the sabotaged target"

pgq "DROP FUNCTION IF EXISTS ${TABLE}_drop_update() CASCADE" >/dev/null
drop_tables "$TABLE"
log "PASS"
