#!/usr/bin/env bash
# `plugins: { sink-discard: { sha256: ... } }`: the right digest validates
# and runs; a wrong one is an error at the pin's place in validate (with
# and without --strict) and run refuses the plugin before loading it,
# naming the file and both digests; an unknown KIND-NAME gets the nearest
# plugin file as "did you mean"; a malformed digest is refused.
set -euo pipefail

: "${RDAPSYNC_BIN:?RDAPSYNC_BIN is not set}"
: "${RDAPSYNC_PLUGIN_PATH:?RDAPSYNC_PLUGIN_PATH is not set}"
export RDAPSYNC_PLUGIN_PATH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; cat out.txt >&2 2>/dev/null || true; exit 1; }

right=$(sha256sum "$RDAPSYNC_PLUGIN_PATH/sink-discard.so" | cut -d' ' -f1)
wrong=$(printf '%s' "$right" | tr '0-9a-f' '1-9a-f0')
printf '{"objectClassName":"domain","handle":"H-1","ldhName":"one.example"}\n' > in.jsonl

write_config() { # $1 = the plugins: entry
    cat > pins.yaml <<YAML
state_dir: state
plugins:
  $1
pipelines:
  - name: p
    source: { plugin: file, config: { path: in.jsonl } }
    sink: { plugin: discard }
YAML
}

run_cli() { # $1 = want status, rest = arguments
    local want=$1 status=0; shift
    "$RDAPSYNC_BIN" "$@" >out.txt 2>&1 || status=$?
    [[ $status -eq $want ]] || fail "rdapsync $* exited $status, want $want"
}

write_config "sink-discard: { sha256: $right }"
run_cli 0 validate --strict pins.yaml
run_cli 0 run pins.yaml

write_config "sink-discard: { sha256: $wrong }"
run_cli 3 validate pins.yaml
grep -q "pins.yaml:3:27: error: plugins.sink-discard: .*sink-discard.so: refused before loading: SHA-256 $right, expected $wrong" out.txt ||
    fail "validate does not report the mismatch at the pin with both digests"
run_cli 3 validate --strict pins.yaml
grep -q "SHA-256 $right, expected $wrong" out.txt || fail "validate --strict does not report the mismatch"
run_cli 3 run pins.yaml
grep -q "sink-discard.so: refused before loading: SHA-256 $right, expected $wrong" out.txt ||
    fail "run does not refuse the mismatched plugin"
grep -q "nothing started" out.txt || fail "run started with a mismatched plugin"

write_config "sink-discrad: { sha256: $right }"
run_cli 3 validate pins.yaml
grep -q "pins.yaml:3:3: error: plugins: no plugin file 'sink-discrad.so' on the search path (did you mean 'sink-discard'?)" out.txt ||
    fail "an unknown plugin under plugins: gets no suggestion"

write_config "sink-discard: { sha256: abc123 }"
run_cli 3 validate pins.yaml
grep -q "pins.yaml:3:27: error: plugins.sink-discard.sha256 must be 64 hexadecimal digits" out.txt ||
    fail "a malformed digest is not reported"

write_config "sink-discard: { sha265: $right }"
run_cli 3 validate pins.yaml
grep -q "unknown key 'sha265' in plugins.sink-discard (did you mean 'sha256'?)" out.txt || fail "a misspelt key has no suggestion"
echo "PASS plugin_pins"
