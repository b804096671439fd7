#!/usr/bin/env bash
# Hostile input through the whole pipeline (file source -> normalize ->
# redact -> file sink, dead letters to a file): every file of
# tests/fixtures/rdap/bad/ and a stream of generated garbage. Each bad
# record lands in the dead-letter sink with a reason naming its place,
# counts are exact (in = out + dead-lettered), nothing crashes; under the
# ASan/UBSan build (scripts/test.sh) the same run must be clean.
TEST_NAME=faults_bad_input
. "$(dirname "$0")/lib.sh"

FIXTURES="$RDAPSYNC_SOURCE_DIR/tests/fixtures/rdap"
[[ -d "$FIXTURES/bad" ]] || fail "no fixtures at $FIXTURES/bad"
mkdir -p fixtures
cp "$FIXTURES"/bad/*.json "$FIXTURES"/*.json fixtures/
chmod u+w fixtures/*
bad_count="$(ls "$FIXTURES"/bad/*.json | wc -l)"
good_count="$(ls "$FIXTURES"/*.json | wc -l)"

# Fixtures the source must refuse, by the file source's documented rules
# (strict UTF-8, no \u0000, no duplicate keys, nesting up to 512, an object
# at the top, integers that fit): the rest parse and meet the transforms.
# An empty document file is a record too (an empty document is not JSON).
source_refused="deep-nesting-5000 duplicate-keys empty huge-number invalid-utf8 nul-in-string top-level-array truncated"

"$(rdapgen_bin)" --count 3000 --size 900 --seed 14 -o good.jsonl
read -r -a garbage_lines < <(python3 "$FAULTS_DIR/garbage.py" 15 good.jsonl garbage.jsonl)
log "fixtures: $bad_count hostile + $good_count good; stream: 3000 good lines and ${#garbage_lines[@]} garbage lines"

cat >run.yaml <<YAML
state_dir: state
pipelines:
  - name: fixtures
    source: { plugin: file, config: { path: fixtures, format: auto } }
    transforms:
      - { plugin: normalize }
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: "$RDAPSYNC_SOURCE_DIR/config/policies" } }
    sink: { plugin: file, config: { path: out/fixtures.jsonl } }
    batch: { max_records: 7, max_wait: 20ms }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: out/fixtures-dead.jsonl }, protect: none } }
  - name: garbage
    source: { plugin: file, config: { path: garbage.jsonl, max_record_size: 64K } }
    transforms:
      - { plugin: normalize }
      - { plugin: redact, config: { policy: gdpr-enterprise, policy_dir: "$RDAPSYNC_SOURCE_DIR/config/policies" } }
    sink: { plugin: file, config: { path: out/garbage.jsonl } }
    batch: { max_records: 100, max_wait: 20ms }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: out/garbage-dead.jsonl }, protect: none } }
YAML

FAIL_LOGS="$WORK/run.log"
"$RDAPSYNC_BIN" run run.yaml >run.log 2>&1 || fail "the run exited $?"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer' run.log; then
  fail "a sanitizer reported an error"
fi

# The garbage stream: exactly the garbage lines are dead letters, from the
# source, each naming garbage.jsonl:LINE; every good line arrives.
python3 "$FAULTS_DIR/check.py" dead out/garbage-dead.jsonl "${#garbage_lines[@]}" source || fail "garbage dead letters"
python3 - out/garbage-dead.jsonl "${garbage_lines[@]}" <<'PY' || fail "garbage dead letters do not name their lines"
import json, sys
want = [f"garbage.jsonl:{n}:" for n in sys.argv[2:]]
got = [json.loads(l)["error"] for l in open(sys.argv[1], encoding="utf-8")]
bad = [(w, g) for w, g in zip(want, got) if not g.startswith(w)]
assert not bad, bad[:3]
PY
[[ "$(wc -l <out/garbage.jsonl)" -eq 3000 ]] || fail "$(wc -l <out/garbage.jsonl) good stream records arrived, want 3000"
want_summary="end of input: $((3000 + ${#garbage_lines[@]})) records (${#garbage_lines[@]} bad)"
grep 'pipeline=garbage' run.log | grep -qF "$want_summary" || fail "the source's summary is not '$want_summary'"

# The fixtures: every hostile one is a dead letter (the source refuses
# exactly the ones above, the transforms the others), every good one arrives.
out="$(wc -l <out/fixtures.jsonl)" dead="$(wc -l <out/fixtures-dead.jsonl)"
(( out == good_count )) || fail "fixtures: $out delivered, want the $good_count good ones"
python3 "$FAULTS_DIR/check.py" dead out/fixtures-dead.jsonl "$bad_count" || fail "fixture dead letters"
python3 - out/fixtures-dead.jsonl out/fixtures.jsonl "$FIXTURES/bad" $source_refused <<'PY' || fail "fixture outcomes"
import json, os, sys
dead = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
delivered = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
hostile = {f.removesuffix(".json") for f in os.listdir(sys.argv[3]) if f.endswith(".json")}
refused = set(sys.argv[4:])
by_stage = {}
for d in dead:
    h = d["headers"]
    name = h["rdapsync.error.stream"].rsplit("/", 1)[-1].removesuffix(".json")
    by_stage.setdefault(h["rdapsync.error.stage"], set()).add(name)
    if h["rdapsync.error.stage"] == "source":
        assert f"{name}.json:" in d["error"], f"source reason without FILE:LINE: {d['error']}"
    else:
        assert d["error"].startswith("$"), f"transform reason without a JSON path: {d['error']}"
    print(f"  dead letter: {name}: {h['rdapsync.error.stage']} {h['rdapsync.error.plugin']}: {d['error'][:100]}")
assert by_stage.get("source", set()) == refused, f"source refused {sorted(by_stage.get('source', set()))}, want {sorted(refused)}"
assert set().union(*by_stage.values()) == hostile, f"dead letters {sorted(set().union(*by_stage.values()))} != {sorted(hostile)}"
assert not ({os.path.basename(d["position"]["stream"]).removesuffix(".json") for d in delivered} & hostile)
PY
grep -q 'fixtures.*end of input' run.log || fail "no end-of-input line for the fixtures"
log "PASS: ${#garbage_lines[@]} garbage lines dead-lettered exactly; fixtures: $out delivered, $dead dead letters"
