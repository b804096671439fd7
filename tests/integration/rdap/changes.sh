#!/usr/bin/env bash
# Following 200 domains with a 1 s refresh through the proxy (which adds
# ETags): a refresh where nothing changed is answered 304 and emits
# nothing; 5 domains changed and 3 removed on the server give exactly 5
# upserts and 3 deletes, and the refreshes after them emit nothing more.
TEST_NAME=rdap_changes
. "$(dirname "$0")/lib.sh"

gen_domains 200 srvdata 22 chg-
srv_start main "$WORK/srvdata"
proxy_start p "$SRV_PORT_main"
P="$PROXY_PORT_p"
cp srvdata.names objects.txt
cat >run.yaml <<YAML
state_dir: state
pipelines:
  - name: rdap-changes
    source:
      plugin: rdap
      config: { objects: objects.txt, servers: { "*": "http://127.0.0.1:$P/rdap" }, refresh: 1s, rate: 0 }
    sink: { plugin: file, config: { path: out/domains.jsonl } }
    batch: { max_wait: 50ms }
YAML
FAIL_LOGS="$WORK/run.log"
start_rdapsync run.yaml run.log
wait_until "the first 200 records" lines_at_least out/domains.jsonl 200
conditional_at_least() { (( $(proxy_stat "$P" 's["conditional"]') >= $1 )); }
wait_until "a whole refresh answered 304" conditional_at_least 200
[[ "$(count_lines out/domains.jsonl)" -eq 200 ]] || fail "a refresh without changes emitted records"

# 5 changed, 3 removed: what the source must emit, as "op key" lines.
python3 - srvdata >expected.txt <<'PY'
import json, os, sys
d = sys.argv[1]
names = sorted(os.listdir(d))
out = []
for n in names[:5]:
    p = os.path.join(d, n)
    doc = json.load(open(p, encoding="utf-8"))
    doc["status"] = ["client hold", "server hold"]
    json.dump(doc, open(p, "w", encoding="utf-8"))
    out.append("upsert " + doc["handle"])
with open("gone.txt", "w") as gone:
    for n in names[5:8]:
        p = os.path.join(d, n)
        out.append("delete " + json.load(open(p, encoding="utf-8"))["handle"])
        os.remove(p)
        gone.write(n[:-len(".json")] + "\n")
print("\n".join(sorted(out)))
PY
gone="$(head -n 1 gone.txt)"
srv_reload "$WORK/srvdata"
is_gone() { [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SRV_PORT_main/rdap/domain/$gone")" == 404 ]]; }
wait_until "the server to drop $gone" is_gone
wait_until "5 upserts and 3 deletes" lines_at_least out/domains.jsonl 208
# Two more whole refreshes: nothing else may come.
base="$(proxy_stat "$P" 's["requests"]')"
requests_past() { (( $(proxy_stat "$P" 's["requests"]') >= $1 )); }
wait_until "two more refreshes" requests_past $((base + 400))
check after out/domains.jsonl 200 >got.txt
diff -u expected.txt got.txt >&2 || fail "the records after the first sync are not exactly the changes"
check positions out/domains.jsonl || fail "positions"
log "PASS ($(proxy_stat "$P" 's["conditional"]') conditional requests answered 304)"
