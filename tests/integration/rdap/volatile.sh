#!/usr/bin/env bash
# A server that stamps every answer with the instant ("last update of RDAP
# database"): no two answers are the same bytes and no ETag ever matches,
# yet refreshes of unchanged objects emit nothing.
TEST_NAME=rdap_volatile
. "$(dirname "$0")/lib.sh"

gen_domains 20 srvdata 28 vol-
srv_start main "$WORK/srvdata"
proxy_start p "$SRV_PORT_main"
P="$PROXY_PORT_p"
curl -s "http://127.0.0.1:$P/_ctl?mode=stamp" >/dev/null
cp srvdata.names objects.txt
cat >run.yaml <<YAML
state_dir: state
pipelines:
  - name: rdap-volatile
    source:
      plugin: rdap
      config: { objects: objects.txt, servers: { "*": "http://127.0.0.1:$P/rdap/" }, refresh: 500ms, rate: 0 }
    sink: { plugin: file, config: { path: out/domains.jsonl } }
    batch: { max_wait: 50ms }
YAML
FAIL_LOGS="$WORK/run.log"
start_rdapsync run.yaml run.log
wait_until "the first 20 records" lines_at_least out/domains.jsonl 20
grep -q '"last update of RDAP database"' out/domains.jsonl || fail "the records lack the stamped event"
requests_past() { (( $(proxy_stat "$P" 's["requests"]') >= $1 )); }
wait_until "three more refreshes" requests_past 80
[[ "$(count_lines out/domains.jsonl)" -eq 20 ]] || fail "refreshes that only moved the stamp emitted records"
[[ "$(proxy_stat "$P" 's["conditional"]')" -eq 0 ]] || fail "an ETag matched: the stamp did not change the bytes"
log "PASS"
