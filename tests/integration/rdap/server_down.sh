#!/usr/bin/env bash
# Two servers, one per TLD. Server A goes down: its objects wait with
# backoff while a change on server B still arrives; A comes back with a
# change of its own, which arrives too, and nothing else is emitted.
TEST_NAME=rdap_server_down
. "$(dirname "$0")/lib.sh"

gen_domains 40 dataA 23 downa-
gen_domains 40 dataB 24 downb-
# The names end in .example or .xn--zckzah; routing is by prefix here.
srv_start A "$WORK/dataA"
srv_start B "$WORK/dataB"
cat dataA.names dataB.names >objects.txt
python3 - "$SRV_PORT_A" "$SRV_PORT_B" >servers.yaml <<'PY'
import sys
a, b = sys.argv[1], sys.argv[2]
lines = []
for name, port in [(n.strip(), a) for n in open("dataA.names")] + [(n.strip(), b) for n in open("dataB.names")]:
    lines.append('"%s": "http://127.0.0.1:%s/rdap/"' % (name, port))
print("{ " + ", ".join(lines) + " }")
PY
cat >run.yaml <<YAML
state_dir: state
pipelines:
  - name: rdap-down
    source:
      plugin: rdap
      config: { objects: objects.txt, servers: $(cat servers.yaml), refresh: 1s, rate: 0,
                timeout: 2s, backoff_initial: 200ms, backoff_max: 1s }
    sink: { plugin: file, config: { path: out/domains.jsonl } }
    batch: { max_wait: 50ms }
    retry: { backoff_initial: 50ms, backoff_max: 500ms }
YAML
FAIL_LOGS="$WORK/run.log"
start_rdapsync run.yaml run.log
wait_until "the first 80 records" lines_at_least out/domains.jsonl 80

change() { # DIR INDEX -> prints the handle
  python3 - "$1" "$2" <<'PY'
import json, os, sys
d, i = sys.argv[1], int(sys.argv[2])
p = os.path.join(d, sorted(os.listdir(d))[i])
doc = json.load(open(p, encoding="utf-8"))
doc["status"] = ["server hold"]
json.dump(doc, open(p, "w", encoding="utf-8"))
print(doc["handle"])
PY
}
srv_stop A
wait_until "server A reported down" grep -q "127.0.0.1:$SRV_PORT_A: " run.log
keyB="$(change dataB 3)"
srv_reload "$WORK/dataB"
has_key() { python3 "$RDAP_TESTS/check.py" after out/domains.jsonl 80 | grep -qx "upsert $1"; }
wait_until "B's change while A is down" has_key "$keyB"

keyA="$(change dataA 5)"
srv_start A "$WORK/dataA"
wait_until "A's change after it came back" has_key "$keyA"
wait_until "A reported back" grep -q "127.0.0.1:$SRV_PORT_A answers again" run.log
printf 'upsert %s\nupsert %s\n' "$keyA" "$keyB" | sort >expected.txt
check after out/domains.jsonl 80 >got.txt
diff -u expected.txt got.txt >&2 || fail "records after the outage are not exactly the two changes"
log "PASS"
