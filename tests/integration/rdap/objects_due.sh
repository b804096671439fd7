#!/usr/bin/env bash
# The gauge objects_due (the status page's "Objects due"): with 20 objects
# and one request per second, the first poll finds all 20 due; the gauge
# shows them in /status, /metrics and the page's table, and falls to 0 once
# every object was fetched and delivered (refresh 1h: nothing is due again
# during the test).
TEST_NAME=rdap_objects_due
. "$(dirname "$0")/lib.sh"

gen_domains 20 srvdata 31 due-
srv_start main "$WORK/srvdata"
cp srvdata.names objects.txt
HTTP_PORT="$(free_port)"
cat >due.yaml <<YAML
state_dir: state
http: { listen: "127.0.0.1:$HTTP_PORT" }
pipelines:
  - name: due
    source:
      plugin: rdap
      config: { objects: objects.txt, servers: { "*": "http://127.0.0.1:$SRV_PORT_main/rdap/" }, refresh: 1h, rate: 1,
                concurrency: 1 }
    sink: { plugin: file, config: { path: out/due.jsonl } }
    batch: { max_wait: 50ms }
YAML
FAIL_LOGS="$WORK/due.log"
start_rdapsync due.yaml due.log

due_is() { # OP N: the task's objects_due in /status compares to N
  local v
  v="$(curl -s "http://127.0.0.1:$HTTP_PORT/status" |
    python3 -c 'import json,sys; t=json.load(sys.stdin)["pipelines"][0]["tasks"][0]; print(t.get("objects_due", -1))')"
  [[ "$v" -ge 0 ]] && (( v $1 $2 ))
}
wait_until "objects_due above 10 at the start" due_is '>' 10
page="$(curl -s "http://127.0.0.1:$HTTP_PORT/")"
grep -Eq '<td class="due num">[0-9]+</td>' <<<"$page" || fail "the status page shows no number of objects due"
wait_until "every domain delivered" lines_at_least out/due.jsonl 20
wait_until "objects_due back to 0" due_is '==' 0
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep -q '^rdapsync_plugin_objects_due{pipeline="due",task="0",plugin="rdap"} 0$' ||
  fail "/metrics has no rdapsync_plugin_objects_due 0"
check once out/due.jsonl 20 || fail "not every domain exactly once"
log "PASS"
