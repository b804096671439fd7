#!/usr/bin/env bash
# kill -9 in the middle of a 3,000-domain backfill, then a restart: every
# domain is delivered exactly once (the file sink's positions and the
# source's pending state agree), and the restart does not fetch again what
# was delivered before the kill.
TEST_NAME=rdap_kill9
. "$(dirname "$0")/lib.sh"

COUNT=3000
gen_domains "$COUNT" srvdata 26 kill-
srv_start main "$WORK/srvdata"
proxy_start p "$SRV_PORT_main"
P="$PROXY_PORT_p"
cp srvdata.names objects.txt
cat >run.yaml <<YAML
state_dir: state
pipelines:
  - name: rdap-kill9
    source:
      plugin: rdap
      config: { objects: objects.txt, servers: { "*": "http://127.0.0.1:$P/rdap/" }, refresh: 0, rate: 0,
                concurrency: 8 }
    sink: { plugin: file, config: { path: out/domains.jsonl } }
    batch: { max_records: 100, max_wait: 50ms }
YAML
FAIL_LOGS="$WORK/run.log"
start_rdapsync run.yaml run.log
wait_until "a third of the domains" lines_at_least out/domains.jsonl 1000
kill -KILL "$RDAPSYNC_PID"
wait_exit
delivered="$(count_lines out/domains.jsonl)"
before="$(proxy_stat "$P" 's["requests"]')"
log "killed with $delivered records delivered after $before requests"
start_rdapsync run.yaml run.log
wait_exit
(( STATUS == 0 )) || fail "the restarted run exited with $STATUS"
after="$(proxy_stat "$P" 's["requests"]')"
refetched=$((after - before))
check once out/domains.jsonl "$COUNT" || fail "not every domain exactly once after the kill"
# What was fetched but not yet delivered at the kill is fetched again: at
# most the queue of finished fetches (256), the requests in flight and a
# batch. Everything delivered is not.
limit=$((COUNT - delivered + 256 + 8 + 100))
(( refetched <= limit )) || fail "the restart made $refetched requests for $((COUNT - delivered)) undelivered domains"
log "PASS (restart made $refetched requests; $((COUNT - delivered)) domains were undelivered)"
