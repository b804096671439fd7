#!/usr/bin/env bash
# The HTTP endpoint with TLS and authentication, checked with curl against
# the real binary: plain; TLS only; basic and bearer without TLS; TLS with
# each; a web_config_file in exporter-toolkit's format. Right credentials
# get 200, wrong or missing ones 401 with WWW-Authenticate. SIGHUP serves a
# new certificate on the same process and socket; a broken one on reload
# keeps the old one. No response and no log line shows a password or the
# token. validate names missing files, a non-bcrypt hash and a secret file
# other users can read (a warning, an error under --strict).
set -euo pipefail

: "${RDAPSYNC_BIN:?RDAPSYNC_BIN is not set}"
: "${RDAPSYNC_PLUGIN_PATH:?RDAPSYNC_PLUGIN_PATH is not set}"
export RDAPSYNC_PLUGIN_PATH
for tool in curl openssl htpasswd python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh test)" >&2; exit 1; }
done

work=$(mktemp -d)
pid=
cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
umask 077

fail() { echo "FAIL: $*" >&2; echo "--- log ---" >&2; cat log.txt >&2 2>/dev/null || true; exit 1; }

PASSWORD='pw-Zq81-correct-horse'
WRONG_PASSWORD='pw-Zq81-wrong-horse'
TOKEN='tok-7c1e0b9d4a35f28e'
WRONG_TOKEN='tok-7c1e0b9d4a35f28f'
printf '%s\n' "$TOKEN" > token.txt
HASH=$(htpasswd -nbBC 5 alice "$PASSWORD" | cut -d: -f2-)

# A test CA and two server certificates for 127.0.0.1 with known serials.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
    -subj /CN=rdapsync-test-ca -days 2 2>/dev/null
make_cert() { # $1 = name, $2 = serial (hex)
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" \
        -subj /CN=127.0.0.1 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$2" -days 2 -extfile san.ext \
        -out "$1.crt" 2>/dev/null
}
make_cert one 1001
make_cert two 2002
cp one.crt server.crt
cp one.key server.key

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: > in.jsonl

# $1 = the lines under http: besides listen
write_config() {
    { cat <<YAML
state_dir: state
http:
  listen: "127.0.0.1:$port"
YAML
      printf '%s\n' "$1"
      cat <<YAML
pipelines:
  - name: p
    source: { plugin: file, config: { path: in.jsonl, follow: true } }
    sink: { plugin: discard }
YAML
    } > run.yaml
}

wait_log() {
    local pattern=$1 count=${2:-1}
    for _ in $(seq 1 600); do
        if [[ $(grep -c -- "$pattern" log.txt 2>/dev/null || true) -ge $count ]]; then return 0; fi
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then fail "daemon exited while waiting for: $pattern"; fi
        sleep 0.1
    done
    fail "timed out waiting for $count x: $pattern"
}

start() {
    local before
    before=$(grep -c 'serving / /metrics' log.txt 2>/dev/null || true)
    "$RDAPSYNC_BIN" run run.yaml >>log.txt 2>&1 &
    pid=$!
    wait_log "serving / /metrics" $((before + 1))
}

stop() {
    kill -TERM "$pid"
    wait "$pid" || fail "daemon exited with $? on SIGTERM"
    pid=
}

n=0
# request SCHEME [curl args...]: the HTTP status in $code; the headers and
# body are kept in resp-N.* for the secret check at the end.
request() {
    local scheme=$1; shift
    n=$((n + 1))
    local args=(-sS -o "resp-$n.body" -D "resp-$n.head" -w '%{http_code}')
    [[ $scheme == https ]] && args+=(--cacert ca.crt)
    code=$(curl "${args[@]}" "$@" "$scheme://127.0.0.1:$port/metrics" 2>"resp-$n.err") || code="curl-failed:$code"
}

expect() { # $1 = want, $2 = got, $3 = what
    [[ "$2" == "$1" ]] || fail "$3: got '$2', want '$1'"
}

challenge() { # $1 = scheme word expected in WWW-Authenticate of the last response
    grep -qi "^WWW-Authenticate: $1 realm=\"rdapsync\"" "resp-$n.head" || fail "401 without a '$1' WWW-Authenticate"
}

serial() {
    openssl s_client -connect "127.0.0.1:$port" -CAfile ca.crt </dev/null 2>/dev/null | openssl x509 -noout -serial
}

TLS_BLOCK='  tls_server_config:
    cert_file: server.crt
    key_file: server.key'
BASIC_BLOCK="  basic_auth_users:
    alice: '$HASH'"
BEARER_BLOCK='  authorization:
    type: Bearer
    credentials: ${file:token.txt}'

# ---- plain, no authentication
write_config ""
start
request http; expect 200 "$code" "plain request"
stop

# ---- TLS only
write_config "$TLS_BLOCK"
start
request https; expect 200 "$code" "TLS request with the test CA"
request http
[[ "$code" != 200 ]] || fail "plain HTTP was answered 200 on the TLS port"
# min_version: TLS 1.2 is accepted by default, refused under TLS13
request https --tls-max 1.2; expect 200 "$code" "TLS 1.2 under the default min_version"
stop
write_config "$TLS_BLOCK"$'\n'"    min_version: TLS13"
start
request https --tls-max 1.2
[[ "$code" != 200 ]] || fail "TLS 1.2 was accepted under min_version: TLS13"
request https; expect 200 "$code" "TLS 1.3 under min_version: TLS13"
stop

check_basic() { # $1 = http or https
    request "$1" -u "alice:$PASSWORD"; expect 200 "$code" "$1 basic with the right password"
    request "$1" -u "alice:$WRONG_PASSWORD"; expect 401 "$code" "$1 basic with a wrong password"
    challenge Basic
    request "$1" -u "mallory:$PASSWORD"; expect 401 "$code" "$1 basic with an unknown user"
    request "$1"; expect 401 "$code" "$1 without credentials (basic)"
    challenge Basic
}

check_bearer() { # $1 = http or https
    request "$1" -H "Authorization: Bearer $TOKEN"; expect 200 "$code" "$1 bearer with the right token"
    request "$1" -H "Authorization: Bearer $WRONG_TOKEN"; expect 401 "$code" "$1 bearer with a wrong token"
    challenge Bearer
    request "$1"; expect 401 "$code" "$1 without a token"
    challenge Bearer
    request "$1" -u "alice:$TOKEN"; expect 401 "$code" "$1 the token as a basic password"
}

# ---- basic, bearer, without TLS
write_config "$BASIC_BLOCK"
start
check_basic http
stop
write_config "$BEARER_BLOCK"
start
check_bearer http
stop

# ---- TLS with each, then with both
write_config "$TLS_BLOCK"$'\n'"$BASIC_BLOCK"
start
check_basic https
stop
write_config "$TLS_BLOCK"$'\n'"$BEARER_BLOCK"
start
check_bearer https
stop
write_config "$TLS_BLOCK"$'\n'"$BASIC_BLOCK"$'\n'"$BEARER_BLOCK"
start
request https -u "alice:$PASSWORD"; expect 200 "$code" "basic beside bearer"
request https -H "Authorization: Bearer $TOKEN"; expect 200 "$code" "bearer beside basic"
request https -H "Authorization: Bearer $WRONG_TOKEN"; expect 401 "$code" "wrong token beside basic"
stop

# ---- exporter-toolkit's web config file, paths relative to it
mkdir -p web
cp one.crt web/tls.crt
cp one.key web/tls.key
cat > web/web-config.yml <<YAML
tls_server_config:
  cert_file: tls.crt
  key_file: tls.key
  min_version: TLS12
basic_auth_users:
  alice: '$HASH'
YAML
write_config "  web_config_file: web/web-config.yml"
start
request https -u "alice:$PASSWORD"; expect 200 "$code" "web_config_file: basic over TLS"
request https -u "alice:$WRONG_PASSWORD"; expect 401 "$code" "web_config_file: wrong password"
challenge Basic
stop

# ---- SIGHUP: a new certificate on the same process and socket; a broken one keeps it
write_config "$TLS_BLOCK"$'\n'"$BEARER_BLOCK"
start
[[ "$(serial)" == "serial=1001" ]] || fail "first certificate: $(serial)"
cp two.crt server.crt
cp two.key server.key
kill -HUP "$pid"
wait_log "http: reloaded\|http.*reloaded on"
[[ "$(serial)" == "serial=2002" ]] || fail "after SIGHUP the endpoint shows $(serial), want serial=2002"
request https -H "Authorization: Bearer $TOKEN"; expect 200 "$code" "request after the reload"
echo "not a certificate" > server.crt
kill -HUP "$pid"
wait_log "reload of .* failed"
grep -q "cert_file 'server.crt': not a PEM certificate" log.txt || fail "the failed reload does not say why"
[[ "$(serial)" == "serial=2002" ]] || fail "after a broken reload the endpoint shows $(serial), want serial=2002"
request https -H "Authorization: Bearer $TOKEN"; expect 200 "$code" "request after the broken reload"
# A token rotated on reload: the old one is refused from then on.
cp two.crt server.crt
printf '%s\n' "$WRONG_TOKEN" > token.txt
kill -HUP "$pid"
wait_log "reloaded on" 2
request https -H "Authorization: Bearer $TOKEN"; expect 401 "$code" "the old token after rotation"
request https -H "Authorization: Bearer $WRONG_TOKEN"; expect 200 "$code" "the new token after rotation"
printf '%s\n' "$TOKEN" > token.txt
stop

# ---- no response and no log line shows a secret
for secret in "$PASSWORD" "$WRONG_PASSWORD" "$TOKEN" "$WRONG_TOKEN" "$HASH"; do
    if grep -rlF -- "$secret" resp-* log.txt; then fail "a secret appears in the files above"; fi
done

# ---- validate
validate() { # $1 = want status, rest = flags; output in out.txt
    local want=$1 status=0; shift
    "$RDAPSYNC_BIN" validate "$@" run.yaml >out.txt 2>&1 || status=$?
    [[ $status -eq $want ]] || { cat out.txt >&2; fail "validate $* exited $status, want $want"; }
}
write_config "  tls_server_config:
    cert_file: missing.crt
    key_file: server.key"
validate 3
grep -q "run.yaml:5:16: error: http: tls_server_config: cert_file 'missing.crt': cannot read: No such file" out.txt ||
    { cat out.txt >&2; fail "a missing certificate is not reported at its place"; }
cp two.crt server.crt
write_config "  tls_server_config:
    cert_file: server.crt
    key_file: one.key"
validate 3
grep -q "run.yaml:6:15: error: .*key_file 'one.key' does not belong to the certificate" out.txt ||
    { cat out.txt >&2; fail "a key of another certificate is not reported"; }
write_config "  basic_auth_users:
    alice: plain-password-here"
validate 3
grep -q "run.yaml:5:12: error: http: basic_auth_users.alice is not a bcrypt hash" out.txt ||
    { cat out.txt >&2; fail "a non-bcrypt hash is not reported"; }
grep -q "plain-password-here" out.txt && fail "validate shows the non-bcrypt value"
write_config "$BEARER_BLOCK"
chmod 644 token.txt
validate 0
grep -q "run.yaml:6:18: warning: http: authorization.credentials 'token.txt' is readable by every user.*\[secret-file-readable\]" out.txt ||
    { cat out.txt >&2; fail "a world-readable token file gives no warning"; }
validate 3 --strict
chmod 600 token.txt
validate 0 --strict
write_config "  tls_server_config:
    cert_file: server.crt
    key_file: server.key
    min_versoin: TLS12"
validate 3
grep -q "unknown key 'min_versoin' in tls_server_config (did you mean 'min_version'?)" out.txt ||
    { cat out.txt >&2; fail "a misspelt key has no suggestion"; }
if grep -rlF -- "$TOKEN" out.txt; then fail "validate shows the token"; fi
# An endpoint on a non-loopback address with TLS but without authentication
write_config "$TLS_BLOCK"
sed "s/127.0.0.1:$port/0.0.0.0:$port/" run.yaml > exposed.yaml && mv exposed.yaml run.yaml
validate 0
grep -q "run.yaml:3:11: warning: http: listen '0.0.0.0:$port' is not a loopback address.*no authentication.*\[http-exposed\]" out.txt ||
    { cat out.txt >&2; fail "an exposed endpoint without authentication gives no warning"; }
write_config "$TLS_BLOCK"$'\n'"$BEARER_BLOCK"
sed "s/127.0.0.1:$port/0.0.0.0:$port/" run.yaml > exposed.yaml && mv exposed.yaml run.yaml
validate 0 --strict
# Settings without listen start nothing: said, not ignored
grep -v "listen:" run.yaml > nolisten.yaml && mv nolisten.yaml run.yaml
validate 0
grep -q "run.yaml:3:3: warning: http: TLS or authentication is configured but there is no 'listen'.*\[http-no-listen\]" out.txt ||
    { cat out.txt run.yaml >&2; fail "settings without listen give no warning"; }
echo "PASS http_security"
