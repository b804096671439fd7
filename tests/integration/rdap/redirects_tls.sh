#!/usr/bin/env bash
# follow_redirects and tls_verify against a server. Through the proxy, one
# domain answers 301 to another path of the same host (served from the
# server), one answers 302 to the server itself (another port: another
# authority), one is not redirected. same_host follows the first and
# dead-letters the second; none dead-letters both; any follows both. Then
# an HTTPS proxy with a self-signed certificate: with tls_verify on (the
# default) the server is reported failing with the certificate error and
# nothing is emitted; with tls_verify: false the domains arrive.
TEST_NAME=rdap_redirects_tls
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl is needed (scripts/deps.sh test)"
WAIT_LIMIT_S=120

gen_domains 3 srvdata 31 rr-
srv_start main "$WORK/srvdata"
proxy_start p "$SRV_PORT_main"
P="$PROXY_PORT_p"
cp srvdata.names objects.txt
mapfile -t NAMES <srvdata.names
SAME="${NAMES[0]}" OTHER="${NAMES[1]}"
curl -s --max-time 5 "http://127.0.0.1:$P/_ctl?mode=redirect&same=$SAME&other=$OTHER&to=http://127.0.0.1:$SRV_PORT_main" >/dev/null
# The handles split.py gives: RR0-RDAPSYNC for the first name, and so on.
KEY_SAME=RR0-RDAPSYNC KEY_OTHER=RR1-RDAPSYNC KEY_PLAIN=RR2-RDAPSYNC

# write_config NAME BASE_URL EXTRA_CONFIG: NAME.yaml, a backfill (refresh 0)
# in its own state folder into out-NAME/; run_backfill runs it to its end.
write_config() {
  cat >"$1.yaml" <<YAML
state_dir: state-$1
pipelines:
  - name: rdap-$1
    source:
      plugin: rdap
      config: { objects: objects.txt, servers: { "*": "$2" }, refresh: 0, rate: 0, concurrency: 1,
                timeout: 5s, backoff_initial: 200ms, backoff_max: 1s $3 }
    sink: { plugin: file, config: { path: out-$1/domains.jsonl } }
    batch: { max_wait: 50ms }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: out-$1/dead.jsonl } } }
YAML
}
run_backfill() {
  write_config "$@"
  FAIL_LOGS="$WORK/$1.log"
  start_rdapsync "$1.yaml" "$1.log"
  local deadline=$((SECONDS + WAIT_LIMIT_S))
  while kill -0 "$RDAPSYNC_PID" 2>/dev/null; do
    (( SECONDS < deadline )) || fail "$1: the backfill did not end"
    sleep 0.1
  done
  wait_exit
  (( STATUS == 0 )) || fail "$1: rdapsync exited with $STATUS"
}
keys() { # FILE -> the keys of its records, sorted, on one line
  if [[ -f "$1" ]]; then python3 "$RDAP_TESTS/check.py" after "$1" 0 | awk '{print $2}' | sort | xargs; fi
}
expect_keys() { # NAME WANT...
  local name="$1" got
  shift
  got="$(keys "out-$name/domains.jsonl")"
  [[ "$got" == "$*" ]] || fail "$name: records for [$got], expected [$*]"
}
expect_dead() { # NAME COUNT PATTERN...
  local name="$1" n="$2" f="out-$1/dead.jsonl"
  shift 2
  [[ "$(count_lines "$f")" -eq "$n" ]] || fail "$name: expected $n dead letters, got $(count_lines "$f")"
  for pat in "$@"; do grep -qF -- "$pat" "$f" || fail "$name: no dead letter says: $pat"; done
}

BASE="http://127.0.0.1:$P/rdap/"
run_backfill same "$BASE" ", follow_redirects: same_host"
expect_keys same "$KEY_SAME" "$KEY_PLAIN"
expect_dead same 1 "redirect to another host (http://127.0.0.1:$SRV_PORT_main/rdap/domain/$OTHER)" \
  "follow_redirects: same_host"
grep -qF "http://127.0.0.1:$P/moved/rdap/domain/$SAME" out-same/domains.jsonl ||
  fail "same: the followed redirect's URL is not in the record"

run_backfill none "$BASE" ", follow_redirects: none"
expect_keys none "$KEY_PLAIN"
expect_dead none 2 "HTTP 301 redirect not followed" "HTTP 302 redirect not followed" \
  "/rdap/domain/$SAME" "/rdap/domain/$OTHER"

run_backfill any "$BASE" ", follow_redirects: any"
expect_keys any "$KEY_SAME" "$KEY_OTHER" "$KEY_PLAIN"
grep -qF "http://127.0.0.1:$SRV_PORT_main/rdap/domain/$OTHER" out-any/domains.jsonl ||
  fail "any: the record of the cross-host redirect does not name the other host's URL"
[[ "$(count_lines out-any/dead.jsonl)" -eq 0 ]] || fail "any: unexpected dead letters: $(cat out-any/dead.jsonl)"

# TLS: a self-signed certificate for 127.0.0.1, made here.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 \
  -keyout tls.key -out tls.crt >openssl.log 2>&1 || { FAIL_LOGS="$WORK/openssl.log"; fail "openssl req failed"; }
proxy_start t "$SRV_PORT_main" --tls tls.crt tls.key
T="$PROXY_PORT_t"
curl -s --max-time 5 --cacert tls.crt -o /dev/null "https://127.0.0.1:$T/rdap/domain/$SAME" ||
  fail "the HTTPS proxy does not answer"
TBASE="https://127.0.0.1:$T/rdap/"

# tls_verify on: a transport error, so the server is failing (backoff, the
# error logged and on /status), the objects wait, nothing is emitted.
write_config verify "$TBASE" ""
FAIL_LOGS="$WORK/verify.log"
start_rdapsync verify.yaml verify.log
wait_until "the certificate error in the log" grep -qF "https://127.0.0.1:$T: SSL certificate problem" verify.log
kill -0 "$RDAPSYNC_PID" 2>/dev/null || fail "verify: rdapsync exited"
kill -TERM "$RDAPSYNC_PID" 2>/dev/null || true
wait_exit
[[ "$(count_lines out-verify/domains.jsonl)" -eq 0 ]] || fail "verify: records emitted over an unverified connection"
[[ "$(count_lines out-verify/dead.jsonl)" -eq 0 ]] || fail "verify: a transport error went to the dead letters"

run_backfill noverify "$TBASE" ", tls_verify: false"
expect_keys noverify "$KEY_SAME" "$KEY_OTHER" "$KEY_PLAIN"
log "PASS"
