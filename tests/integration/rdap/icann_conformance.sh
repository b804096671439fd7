#!/usr/bin/env bash
# ICANN's conformance tool (rdap-test of icann-rdap-cli 0.0.30, built by
# scripts/servers/rdap.sh) as a judge of the redact transform's raw RDAP
# output. Domain objects (the fixtures and some rdapgen domains) go through
# rdapsync twice: file -> file as they are (the baseline), and file ->
# redact -> file for each shipped policy. Each output is served by its own
# icann-rdap-srv, and `rdap-test -T -O json` runs against every domain, plain
# and with `-g gtld`.
#
# What we own is asserted: rdap-test ran and saw our redacted object
# (`redacted` in its rdapConformance); every finding is counted by check
# class and check; no warning or error appears on a redacted object that
# the same object without redaction does not have, except those listed in
# KNOWN_INTRODUCED below (found by this test, reported in
# docs/plugins/transform-redact.md). What the inputs already carry (and the
# server's plain HTTP, loopback addresses, example names) is printed, not
# judged.
TEST_NAME=rdap_icann_conformance
. "$(dirname "$0")/lib.sh"

RDAP_TEST="${RDAPSYNC_RDAP_TEST_BIN:-${RDAPSYNC_CACHE_DIR:-$HOME/.cache/rdapsync}/icann-rdap-cli-0.0.30/bin/rdap-test}"
[[ -x "$RDAP_TEST" ]] ||
  fail "no rdap-test at $RDAP_TEST: build it once with scripts/servers/rdap.sh build-client (or start)"
POLICIES="${RDAP_ICANN_POLICIES:-gdpr-enterprise gdpr-standard ccpa-basic}"
GENERATED="${RDAP_ICANN_GENERATED:-6}"
# "check_class/check" pairs that redact is known to introduce (see the doc).
KNOWN_INTRODUCED="${RDAP_ICANN_KNOWN_INTRODUCED:-}"

mkdir in
cp "$RDAPSYNC_SOURCE_DIR"/tests/fixtures/rdap/domain-*.json in/
"$RDAPSYNC_BINARY_DIR/tools/rdapgen/rdapgen" --count "$GENERATED" --seed 9537 --size 3000 -o in/generated.jsonl

pipeline() { # NAME TRANSFORMS_YAML
  cat >"$1.yaml" <<YAML
state_dir: state-$1
pipelines:
  - name: icann-$1
    source: { plugin: file, config: { path: "$WORK/in" } }
    transforms:
$2
    sink: { plugin: file, config: { path: "$WORK/out/$1.jsonl" } }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "$WORK/out/$1.dead" }, protect: none } }
YAML
  FAIL_LOGS="$WORK/$1.log"
  start_rdapsync "$1.yaml" "$1.log"
  wait_exit
  (( STATUS == 0 )) || fail "rdapsync ($1) exited with $STATUS"
  [[ ! -s "out/$1.dead" ]] || fail "dead letters ($1): $(head -c 300 "out/$1.dead")"
}

variants=(asis)
pipeline asis "      []"
for p in $POLICIES; do
  pipeline "$p" "      - { plugin: redact, config: { policy: $p, policy_dir: \"$RDAPSYNC_SOURCE_DIR/config/policies\" } }"
  variants+=("$p")
done

# One data folder and one rdap-srv per variant; the same names in each.
for v in "${variants[@]}"; do
  python3 "$RDAP_TESTS/icann_report.py" split "out/$v.jsonl" "srv-$v" >"names-$v"
  srv_start "${v//-/_}" "$WORK/srv-$v"
done
cmp -s names-asis "names-${variants[1]}" || fail "the variants hold different domains"
log "$(wc -l <names-asis) domains, variants: ${variants[*]}"

# rdap-test exits 0 (nothing found) or 3 (error checks found); anything
# else means it did not test. Its DNS resolver is pointed at loopback: the
# URLs name 127.0.0.1, nothing is resolved.
for v in "${variants[@]}"; do
  port="$(eval "printf '%s' \"\$SRV_PORT_${v//-/_}\"")"
  for mode in plain gtld; do
    mkdir -p "res/$v/$mode"
    args=(-T -O json --dns-resolver 127.0.0.1:53 --skip-v6 --timeout-secs 30 --max-retries 0)
    [[ $mode == gtld ]] && args+=(-g gtld)
    while read -r name; do
      rc=0
      RUST_LOG=warn "$RDAP_TEST" "${args[@]}" "http://127.0.0.1:$port/rdap/domain/$name" \
        >"res/$v/$mode/$name.json" 2>"res/$v/$mode/$name.err" || rc=$?
      [[ $rc -eq 0 || $rc -eq 3 ]] || { cat "res/$v/$mode/$name.err" >&2; fail "rdap-test exited $rc for $v/$mode/$name"; }
    done <"names-$v"
  done
done

python3 "$RDAP_TESTS/icann_report.py" judge res asis "$KNOWN_INTRODUCED" "${variants[@]:1}" ||
  fail "see above"
log "PASS"
