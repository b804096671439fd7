#!/usr/bin/env bash
# A backfill of 10,000 domains from icann-rdap-srv, found through a
# bootstrap dns.json: every domain arrives exactly once and the run ends by
# itself; a second backfill over unchanged data emits nothing (rdap-srv
# sends rdapConformance in a different order on every answer: a set, whose
# order the content hash ignores).
TEST_NAME=rdap_initial_sync
. "$(dirname "$0")/lib.sh"

COUNT="${RDAP_SYNC_COUNT:-10000}"
gen_domains "$COUNT" srvdata 21 sync- 4096
srv_start main "$WORK/srvdata"
mkdir -p bootstrap
# Every TLD of the names on this server; the port-0 entry for a longer
# suffix that no name has must not be chosen over the right one.
python3 - "$SRV_PORT_main" >bootstrap/dns.json <<'PY'
import json, sys
tlds = sorted({n.strip().rsplit(".", 1)[-1] for n in open("srvdata.names")})
url = "http://127.0.0.1:%s/rdap/" % sys.argv[1]
print(json.dumps({"version": "1.0", "publication": "2026-01-01T00:00:00Z",
                  "services": [[["nothing." + tlds[0]], ["http://127.0.0.1:0/rdap/"]], [tlds, [url]]]}))
PY
# A domain under a TLD the bootstrap does not know is logged and skipped.
cp srvdata.names objects.txt
echo "unknown.invalidtld" >>objects.txt

cat >run.yaml <<YAML
state_dir: state
pipelines:
  - name: rdap-sync
    source:
      plugin: rdap
      config: { objects: objects.txt, bootstrap: bootstrap, refresh: 0, rate: 0, concurrency: 8 }
    sink: { plugin: file, config: { path: out/domains.jsonl } }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: out/dead.jsonl } } }
YAML
FAIL_LOGS="$WORK/run.log"
start_rdapsync run.yaml run.log
wait_exit
(( STATUS == 0 )) || fail "rdapsync exited with $STATUS"
check once out/domains.jsonl "$(wc -l <srvdata.names)" || fail "not every domain exactly once"
[[ ! -s out/dead.jsonl ]] || fail "dead letters: $(head -c 300 out/dead.jsonl)"
grep -q 'unknown.invalidtld: no RDAP server' run.log || fail "the unroutable domain was not reported"
log "first backfill: $(wc -l <out/domains.jsonl) records"

start_rdapsync run.yaml run2.log
FAIL_LOGS="$WORK/run2.log"
wait_exit
(( STATUS == 0 )) || fail "second run exited with $STATUS"
[[ "$(wc -l <out/domains.jsonl)" -eq "$(wc -l <srvdata.names)" ]] ||
  fail "the second backfill over unchanged data emitted $(( $(wc -l <out/domains.jsonl) - $(wc -l <srvdata.names) )) record(s)"
log "PASS"
