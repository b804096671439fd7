#!/usr/bin/env bash
# 429 and 503 with Retry-After (in seconds, then as an HTTP-date) from the
# proxy: no request reaches the server before the window it announced has
# passed, and the backfill still delivers every domain exactly once.
TEST_NAME=rdap_rate_limit
. "$(dirname "$0")/lib.sh"

gen_domains 30 srvdata 25 rate-
srv_start main "$WORK/srvdata"
proxy_start p "$SRV_PORT_main"
P="$PROXY_PORT_p"
cp srvdata.names objects.txt
config() { # STATE_DIR OUT
  cat <<YAML
state_dir: $1
pipelines:
  - name: rdap-rate
    source:
      plugin: rdap
      config: { objects: objects.txt, servers: { "*": "http://127.0.0.1:$P/rdap/" }, refresh: 0, rate: 20,
                concurrency: 1 }
    sink: { plugin: file, config: { path: $2 } }
YAML
}
run_once() { # NAME
  config "state-$1" "out/$1.jsonl" >"$1.yaml"
  FAIL_LOGS="$WORK/$1.log"
  start_rdapsync "$1.yaml" "$1.log"
  wait_exit
  (( STATUS == 0 )) || fail "$1: rdapsync exited with $STATUS"
  check once "out/$1.jsonl" 30 || fail "$1: not every domain exactly once"
}

curl -s "http://127.0.0.1:$P/_ctl?mode=throttle&count=3&retry_after=2&status=429" >/dev/null
run_once seconds
curl -s "http://127.0.0.1:$P/_ctl?mode=throttle&count=2&retry_after=date:2&status=503" >/dev/null
run_once httpdate
throttled="$(proxy_stat "$P" 's["throttled"]')"
early="$(proxy_stat "$P" 's["early"]')"
[[ "$throttled" -eq 5 ]] || fail "the proxy throttled $throttled requests, expected 5"
[[ "$early" -eq 0 ]] || fail "$early request(s) came before their Retry-After window ended"
grep -q "HTTP 429" seconds.log || fail "the 429 was not reported"
log "PASS ($throttled throttled, none early)"
