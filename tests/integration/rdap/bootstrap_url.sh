#!/usr/bin/env bash
# The bootstrap read from a URL (a loopback HTTP server holding dns.json
# only: the other registry files are missing, which is fine), and a file of
# objects that grows while the source runs: the added line is followed.
TEST_NAME=rdap_bootstrap_url
. "$(dirname "$0")/lib.sh"

gen_domains 12 srvdata 29 boot-
srv_start main "$WORK/srvdata"
mkdir -p www
python3 - "$SRV_PORT_main" >www/dns.json <<'PY'
import json, sys
tlds = sorted({n.strip().rsplit(".", 1)[-1] for n in open("srvdata.names")})
print(json.dumps({"version": "1.0", "services": [[tlds, ["http://127.0.0.1:%s/rdap/" % sys.argv[1]]]]}))
PY
WWW_PORT="$(free_port)"
python3 -m http.server "$WWW_PORT" --bind 127.0.0.1 --directory www >www.log 2>&1 &
PIDS+=("$!")
wait_until "the bootstrap server" curl -sf -o /dev/null "http://127.0.0.1:$WWW_PORT/dns.json"
head -n 10 srvdata.names >objects.txt
cat >run.yaml <<YAML
state_dir: state
pipelines:
  - name: rdap-boot
    source:
      plugin: rdap
      config: { objects: objects.txt, bootstrap: "http://127.0.0.1:$WWW_PORT/", refresh: 1h, rate: 0, rescan: 200ms }
    sink: { plugin: file, config: { path: out/domains.jsonl } }
    batch: { max_wait: 50ms }
YAML
FAIL_LOGS="$WORK/run.log"
start_rdapsync run.yaml run.log
wait_until "the first 10 records" lines_at_least out/domains.jsonl 10
sed -n 11,12p srvdata.names >>objects.txt
wait_until "the 2 objects added while running" lines_at_least out/domains.jsonl 12
kill -TERM "$RDAPSYNC_PID"
wait_exit
check once out/domains.jsonl 12 || fail "not every domain exactly once"
grep -q 'bootstrap: 1 registry file' run.log || fail "the bootstrap was not read from the URL"
log "PASS"
