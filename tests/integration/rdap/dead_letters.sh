#!/usr/bin/env bash
# Answers that are not RDAP (HTML, an errorCode body, invalid JSON, a body
# over max_response_size) go to the dead-letter sink with the URL and the
# reason, and the other domains arrive; the next backfill fetches the
# dead-lettered ones again and delivers them.
TEST_NAME=rdap_dead_letters
. "$(dirname "$0")/lib.sh"

gen_domains 10 srvdata 27 dl-
srv_start main "$WORK/srvdata"
proxy_start p "$SRV_PORT_main"
P="$PROXY_PORT_p"
cp srvdata.names objects.txt
cat >run.yaml <<YAML
state_dir: state
pipelines:
  - name: rdap-dl
    source:
      plugin: rdap
      config: { objects: objects.txt, servers: { "*": "http://127.0.0.1:$P/rdap/" }, refresh: 0, rate: 0,
                concurrency: 1, max_response_size: 64K }
    sink: { plugin: file, config: { path: out/domains.jsonl } }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: out/dead.jsonl } } }
YAML
FAIL_LOGS="$WORK/run.log"
curl -s "http://127.0.0.1:$P/_ctl?mode=garbage&kinds=html,errorcode,badjson,big" >/dev/null
start_rdapsync run.yaml run.log
wait_exit
(( STATUS == 0 )) || fail "rdapsync exited with $STATUS"
[[ "$(count_lines out/domains.jsonl)" -eq 6 ]] || fail "expected 6 domains, got $(count_lines out/domains.jsonl)"
[[ "$(count_lines out/dead.jsonl)" -eq 4 ]] || fail "expected 4 dead letters, got $(count_lines out/dead.jsonl)"
for reason in "content type text/html" "errorCode" "not JSON" "max_response_size"; do
  grep -q "$reason" out/dead.jsonl || fail "no dead letter says: $reason"
done
grep -q "http://127.0.0.1:$P/rdap/domain/" out/dead.jsonl || fail "the dead letters do not name the URL"

start_rdapsync run.yaml run2.log
wait_exit
(( STATUS == 0 )) || fail "the second run exited with $STATUS"
check once out/domains.jsonl 10 || fail "the dead-lettered domains were not delivered by the next backfill"
log "PASS"
