#!/usr/bin/env bash
# The conformance kit's retry_after_failure case drives a sink into the
# write that fails with EPIPE, and the kit survives it the way the host
# does (SIGPIPE ignored): a sink that sends like hiredis, whose server ends
# its session between batches, is still sending a batch of ~9 MB when the
# server's reset arrives. With small batches the whole send fit in the
# socket buffers and the sink only saw the reset when reading the reply:
# a Redis sink passed the kit that way, then killed rdapsync with exit 141.
#
# sink-rawtcp (sink_rawtcp.c) is the sink; drop_server.py is its server,
# the kit's read-back (CTL dump, CTL reset) and its --fail-cmd (CTL drop:
# a FIN on every open session).
set -euo pipefail

for var in RDAPSYNC_BINARY_DIR RAWTCP_PLUGIN_DIR; do
  [[ -n "${!var:-}" ]] || { echo "FAIL: $var is not set (run through ctest)" >&2; exit 1; }
done
KIT="$RDAPSYNC_BINARY_DIR/sdk/testkit/rdapsync-sink-testkit"
SINK="$RAWTCP_PLUGIN_DIR/sink-rawtcp.so"
for f in "$KIT" "$SINK"; do [[ -f "$f" ]] || { echo "FAIL: $f not built" >&2; exit 1; }; done
command -v python3 >/dev/null || { echo "FAIL: python3 is needed for the server" >&2; exit 1; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-e2e-sigpipe-kit.XXXXXX")
server=
cleanup() {
  local rc=$?
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then kill "$server" 2>/dev/null || true; fi
  if [[ $rc -eq 0 ]]; then rm -rf "$work"; else echo "work folder kept: $work" >&2; fi
}
trap cleanup EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; cat kit.out >&2 2>/dev/null || true; tail -n 20 kit.err >&2 2>/dev/null || true; exit 1; }

python3 "$here/drop_server.py" --port-file port.txt --status-file server.json --lifetime 300 2>server.err &
server=$!
for _ in $(seq 1 300); do [[ -s port.txt ]] && break; kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
[[ -s port.txt ]] || { cat server.err >&2; fail "the server did not start"; }
port=$(cat port.txt)
printf 'port: %s\ntimeout: 30s\n' "$port" >sink.yaml
ctl="python3 '$here/drop_server.py' --ctl $port"

status=0
"$KIT" --plugin "$SINK" --config sink.yaml --reset-cmd "$ctl reset" --readback-cmd "$ctl dump" \
  --fail-cmd "$ctl drop" --only write_flush_read_back --only retry_after_failure >kit.out 2>kit.err || status=$?
cat kit.out >&2
[[ $status -ne 141 ]] || fail "the kit was killed by SIGPIPE (exit 141): it does not ignore SIGPIPE like the host"
[[ $status -eq 0 ]] || fail "the kit exited $status, want 0"
grep -qx 'PASS retry_after_failure' kit.out || fail "retry_after_failure did not pass"
tail -n 1 kit.out | grep -qx '2 passed, 0 failed' || fail "unexpected summary"
# The sink's first RETRY must come from the write that meets the reset:
# EPIPE, the error SIGPIPE comes with.
grep -q 'the first: send: Broken pipe$' kit.out ||
  fail "the first RETRY was not an EPIPE on send: the batch after the failure did not meet the broken connection"
drops=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ctl_drops"])' server.json)
[[ $drops -eq 2 ]] || fail "the kit's --fail-cmd ran $drops times, want 2"
echo "PASS the kit's retry case meets EPIPE and survives it"
