#!/usr/bin/env bash
# (a) A quickstart-shaped run over generated RDAP domains: file -> file,
# bounded. Exit 0; the output holds the input's values, in order, with keys;
# a second run over the same state adds nothing; the value format writes the
# documents themselves.
source "$(dirname "$0")/lib.sh"

generate 2000 7 in.jsonl 2048
write_config run.yaml "$work/in.jsonl" "$work/out/domains.jsonl"
run run.yaml run.log
[ "$status" -eq 0 ] || { cat run.log; fail "rdapsync exited $status"; }
check values-in-order in.jsonl out/domains.jsonl
[ ! -s out/dead.jsonl ] || fail "unexpected dead letters: $(head -c 300 out/dead.jsonl)"
grep -q 'end of input: 2000 records' run.log || fail "no end-of-input summary in the log"

note "a second run resumes at the end: nothing new"
run run.yaml run2.log
[ "$status" -eq 0 ] || { cat run2.log; fail "second run exited $status"; }
check lines out/domains.jsonl 2000
grep -q "resumed from checkpoint $work/state/e2e/task-0/checkpoint.json: nothing new since $work/in.jsonl byte [0-9]* (line 2000); to start over, remove $work/state/e2e/task-0" run2.log ||
  { cat run2.log; fail "the second run does not say it resumed and found nothing new"; }

note "value format"
sed -e 's|sink: { plugin: file, config: { path: "\([^"]*\)" } }|sink: { plugin: file, config: { path: "'"$work"'/out/values.jsonl", format: value } }|' \
    -e "s|$work/state|$work/state2|" run.yaml >values.yaml
run values.yaml values.log
[ "$status" -eq 0 ] || { cat values.log; fail "value-format run exited $status"; }
python3 - "$work/in.jsonl" "$work/out/values.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
b = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert a == b, "value-format output differs from the input (%d vs %d lines)" % (len(a), len(b))
print("check: %d documents written as they came" % len(b))
PY
echo "PASS quickstart_like"
