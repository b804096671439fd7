#!/usr/bin/env bash
# A sink whose server closes the connection in the middle of a multi-MB
# write gets RETRY, and the process lives on: the host ignores SIGPIPE
# before it loads any plugin, so the sink's plain write(2) fails with EPIPE
# instead of killing rdapsync (exit 141). After the server accepts again,
# every record arrives.
#
# sink-rawtcp (sink_rawtcp.c) sends like hiredis: the whole batch at
# flush, with plain write(2), no MSG_NOSIGNAL. drop_server.py drops its
# first connection mid-send.
set -euo pipefail

for var in RDAPSYNC_BIN RDAPSYNC_PLUGIN_PATH RAWTCP_PLUGIN_DIR; do
  [[ -n "${!var:-}" ]] || { echo "FAIL: $var is not set (run through ctest)" >&2; exit 1; }
done
[[ -f "$RAWTCP_PLUGIN_DIR/sink-rawtcp.so" ]] || { echo "FAIL: sink-rawtcp.so not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is needed for the server" >&2; exit 1; }
export RDAPSYNC_PLUGIN_PATH
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-sigpipe.XXXXXX")
pid= server=
cleanup() {
  local rc=$?
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then kill "$server" 2>/dev/null || true; fi
  if [[ $rc -eq 0 ]]; then rm -rf "$work"; else echo "work folder kept: $work" >&2; fi
}
trap cleanup EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; echo "--- rdapsync log (tail) ---" >&2; tail -n 30 log.txt >&2 2>/dev/null || true; exit 1; }

# 2,000 documents of about 4 KB: one batch of about 8 MB, more than the
# socket buffers hold, so the sink is still sending when the server goes.
records=2000
mkdir in
python3 - "$records" >in/domains.jsonl <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"objectClassName": "domain", "handle": "D%05d" % i, "ldhName": "d%05d.example" % i,
                      "remarks": [{"description": ["%05d " % i + "x" * 4000]}]}))
PY

python3 "$here/drop_server.py" --port-file port.txt --status-file server.json --drop-after $((256 * 1024)) \
  --drops 1 --lifetime 300 2>server.err &
server=$!
for _ in $(seq 1 300); do [[ -s port.txt ]] && break; kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
[[ -s port.txt ]] || { cat server.err >&2; fail "the server did not start"; }
port=$(cat port.txt)

cat >run.yaml <<YAML
state_dir: $work/state
log: { level: info }
pipelines:
  - name: gone
    source: { plugin: file, config: { path: "$work/in" } }
    sink: { plugin: rawtcp, config: { port: $port, timeout: 30s } }
    batch: { max_records: $records, max_wait: 1s, max_bytes: 64M }
    retry: { backoff_initial: 20ms, backoff_max: 200ms }
    errors: { tolerance: none }
YAML

# The source is bounded: rdapsync exits by itself once every record is
# delivered (or at once, killed, without the fix). The loop bound only
# keeps a hung run from hanging the test.
"$RDAPSYNC_BIN" --plugin-path "$RAWTCP_PLUGIN_DIR" run run.yaml 2>log.txt &
pid=$!
for _ in $(seq 1 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then fail "rdapsync still running after 120 s"; fi
status=0
wait "$pid" || status=$?
pid=

[[ $status -ne 141 ]] || fail "rdapsync was killed by SIGPIPE (exit 141): the host does not ignore SIGPIPE"
[[ $status -lt 128 ]] || fail "rdapsync was killed by signal $((status - 128))"
[[ $status -eq 0 ]] || fail "rdapsync exited $status, want 0"

dropped=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dropped"])' server.json)
[[ $dropped -ge 1 ]] || fail "the server never dropped a connection: the failure path was not exercised"
# EPIPE is the error that comes with SIGPIPE: the sink met the signal's
# cause and answered RETRY, which the host logs before writing again.
grep -q 'write: retry in .*send: Broken pipe' log.txt ||
  fail "no RETRY after EPIPE in the log (the dropped write did not fail with EPIPE?)"
grep -m 1 'write: retry in' log.txt >&2
python3 - "$records" server.json <<'PY' || fail "the server did not get every record"
import json, sys
want = int(sys.argv[1])
status = json.load(open(sys.argv[2]))
print("server:", json.dumps(status), file=sys.stderr)
assert status["bad_commits"] == 0, "a COMMIT count did not match the lines sent"
assert status["keys"] == want, "%d distinct records stored, want %d" % (status["keys"], want)
assert status["connections"] >= 2, "the sink never reconnected"
PY
echo "PASS sigpipe: the write to a dropped connection was a RETRY, $records records stored"
