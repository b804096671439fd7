#!/usr/bin/env bash
# A subject present in all six stores (PostgreSQL and MariaDB with history
# tables, FerretDB, SQLite with a history table, Redis, a file) and in every
# pipeline's dead letters; `rdapsync erase`; then a raw scan of every store
# (dumps, the SQLite file and WAL bytes, Redis values, file bytes) finds no
# trace of her, the other people are still there; a newer record about her
# then arrives redacted in every store; `audit verify` passes on the trail
# the runs and the erasure wrote, and fails once a line is deleted.
# The five table sinks keep conflict heads (conflicts: { strategy: lww }):
# two concurrent versions about her (version vectors of two regions) leave
# two heads; the erasure leaves them as versions without her documents
# (marked "erased", or redacted where the pipeline redacts), and a newer
# concurrent version arrives redacted into the heads too.
set -euo pipefail
: "${RDAPSYNC_BINARY_DIR:?run through ctest}" "${RDAPSYNC_BIN:?run through ctest}"
: "${RDAPSYNC_PLUGIN_PATH:?run through ctest}"
log() { printf '[%s six_stores] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
for var in RDAPSYNC_PG_DSN RDAPSYNC_MYSQL_HOST RDAPSYNC_MYSQL_PORT RDAPSYNC_MYSQL_USER RDAPSYNC_MYSQL_PASSWORD \
           RDAPSYNC_MONGO_URI RDAPSYNC_REDIS_URL RDAPSYNC_REDIS_HOST RDAPSYNC_REDIS_PORT; do
  [[ -n "${!var:-}" ]] || fail "$var is not set: start the servers (scripts/servers/all.sh) and export their env"
done
export RDAPSYNC_PLUGIN_PATH
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rdapsync-six-stores.XXXXXX")"
RUN="c$$"
export SINK_DB="rdapsync_six_$RUN"
PREFIX="t:six:$RUN:"
MONGO_EXPORT="$RDAPSYNC_BINARY_DIR/tests/integration/mongodb/mongo-export"
[[ -x "$MONGO_EXPORT" ]] || fail "mongo-export is not built (cmake --build <dir> --target mongo-export)"
pgq() { psql "$RDAPSYNC_PG_DSN" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
myq() { "$(command -v mariadb || command -v mysql)" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" \
          -P "$RDAPSYNC_MYSQL_PORT" -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" -N -e "$1"; }
rcli() { REDISCLI_AUTH="${RDAPSYNC_REDIS_PASSWORD:-}" redis-cli --no-auth-warning -h "$RDAPSYNC_REDIS_HOST" \
           -p "$RDAPSYNC_REDIS_PORT" ${RDAPSYNC_REDIS_USER:+--user "$RDAPSYNC_REDIS_USER"} "$@"; }
cleanup() {
  local rc=$?
  pgq "DROP TABLE IF EXISTS six_$RUN, six_${RUN}_history, six_${RUN}_heads, six_${RUN}_conflicts" >/dev/null 2>&1 || true
  local c
  for c in "six_$RUN" "six_${RUN}_heads" "six_${RUN}_conflicts"; do
    "$MONGO_EXPORT" --drop "$RDAPSYNC_MONGO_URI" rdapsync_test "$c" >/dev/null 2>&1 || true
  done
  myq "DROP DATABASE IF EXISTS \`$SINK_DB\`" >/dev/null 2>&1 || true
  rcli --raw EVAL "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" 0 "$PREFIX*" \
    >/dev/null 2>&1 || true
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else log "work folder kept: $WORK"; fi
}
trap cleanup EXIT
cd "$WORK"
myq "CREATE DATABASE \`$SINK_DB\` CHARACTER SET utf8mb4"

contact() { # handle name email phone
  printf '{"handle":"%s","roles":["registrant"],"kind":"individual","name":"%s","emails":["%s"],"phones":[{"number":"%s","types":["voice"]}]}' "$@"
}
domain() { # ldh contact
  printf '{"rdapsync":{"schema":"rdapsync.unified/1"},"object_class":"domain","ldh_name":"%s","contacts":{"registrant":[%s]}}' "$1" "$2"
}
line() { printf '{"key":"%s","op":"upsert","ts_ms":%s,"origin":"t","seq":%s,"value":%s}\n' "$@"; }
vline() { # key ts origin seq vv value: a version with a version vector
  printf '{"key":"%s","op":"upsert","ts_ms":%s,"origin":"%s","seq":%s,"vv":%s,"value":%s}\n' "$@"
}
maren="$(contact C20117001-EXAMPLE "Maren Oakhurst" maren@larkspur-bindery.example +1.5555550234)"
yusuf="$(contact C20117003-EXAMPLE "Yusuf Brannigan" yusuf@tallgrass-hosting.example +1.5555550246)"
{
  line domain/larkspur-bindery.example 1000 1 "$(domain larkspur-bindery.example "$maren")"
  line domain/larkspur-bindery.example 2000 2 "$(domain larkspur-bindery.example "$maren")"
  line entity/C20117001-EXAMPLE 1000 3 "{\"object_class\":\"entity\",\"handle\":\"C20117001-EXAMPLE\",\"entity\":$maren}"
  line domain/tallgrass.example 1000 4 "$(domain tallgrass.example "$yusuf")"
  vline domain/regions.example 1000 eu 6 '{"eu":1}' "$(domain regions.example "$maren")"
  vline domain/regions.example 2000 us 7 '{"us":1}' "$(domain regions.example "$maren")"
  printf '%s\n' '{"key":"domain/broken.example","value":{"emails":["maren@larkspur-bindery.example"]'
} >docs.jsonl
{
  line domain/larkspur-bindery.example 3000 5 "$(domain larkspur-bindery.example "$maren")"
  vline domain/regions.example 3000 ap 8 '{"ap":1}' "$(domain regions.example "$maren")"
} >newer.jsonl
head -c 32 /dev/urandom | base64 >audit.key
head -c 32 /dev/urandom | base64 >subjects.key
cat >fax-only.yaml <<'YAML'
name: fax-only
rules:
  - fields: [fax]
    method: removal
YAML

# config NAME INPUT: one pipeline per store over INPUT, each with a dead-letter file.
config() {
  local name=$1 input=$2 heads="conflicts: { strategy: lww }"
  pipeline() { # name sink [transforms]
    cat <<YAML
  - name: $1
    source: { plugin: file, config: { path: "$input" } }
${3:-}    sink: $2
    batch: { max_records: 2, max_wait: 50ms }
    errors: { tolerance: all, dead_letter: { plugin: file, config: { path: "$WORK/dlq-$1.jsonl" }, protect: none } }
YAML
  }
  {
    cat <<YAML
state_dir: $WORK/state-$name
audit: { path: $WORK/audit.log, key: "\${file:$WORK/audit.key}" }
compliance: { suppression: $WORK/suppressed.list, key: "\${file:$WORK/subjects.key}", policy_dir: "$RDAPSYNC_SOURCE_DIR/config/policies" }
pipelines:
YAML
    pipeline pg "{ plugin: postgres, config: { dsn: \"\${env:RDAPSYNC_PG_DSN}\", table: six_$RUN, history: { table: six_${RUN}_history }, $heads } }" \
      "    transforms: [ { plugin: redact, config: { policy: \"$WORK/fax-only.yaml\" } } ]
"
    pipeline my "{ plugin: mysql, config: { host: \"\${env:RDAPSYNC_MYSQL_HOST}\", port: \"\${env:RDAPSYNC_MYSQL_PORT}\", user: \"\${env:RDAPSYNC_MYSQL_USER}\", password: \"\${env:RDAPSYNC_MYSQL_PASSWORD}\", database: \"\${env:SINK_DB}\", table: docs, history: { table: docs_history }, $heads } }"
    pipeline mongo "{ plugin: mongodb, config: { uri: \"\${env:RDAPSYNC_MONGO_URI}\", database: rdapsync_test, collection: six_$RUN, $heads } }"
    pipeline lite "{ plugin: sqlite, config: { path: \"$WORK/six.db\", history: { table: docs_history }, $heads } }"
    pipeline red "{ plugin: redis, config: { url: \"\${env:RDAPSYNC_REDIS_URL}\", username: \"\${env:RDAPSYNC_REDIS_USER}\", password: \"\${env:RDAPSYNC_REDIS_PASSWORD}\", prefix: \"$PREFIX\", $heads } }"
    pipeline file "{ plugin: file, config: { path: \"$WORK/out-file.jsonl\" } }"
  } >"$name.yaml"
}

scan() { # every store, as raw as it allows
  pg_dump --data-only -t "six_$RUN" -t "six_${RUN}_history" -t "six_${RUN}_conflicts" \
    "$RDAPSYNC_PG_DSN" | sed 's/^/pg: /'
  "$(command -v mariadb-dump || command -v mysqldump)" --no-defaults --protocol=tcp -h "$RDAPSYNC_MYSQL_HOST" \
    -P "$RDAPSYNC_MYSQL_PORT" -u "$RDAPSYNC_MYSQL_USER" -p"$RDAPSYNC_MYSQL_PASSWORD" --skip-extended-insert "$SINK_DB" \
    | sed 's/^/mysql: /'
  local c
  for c in "six_$RUN" "six_${RUN}_heads" "six_${RUN}_conflicts"; do
    "$MONGO_EXPORT" --raw "$RDAPSYNC_MONGO_URI" rdapsync_test "$c" | sed 's/^/mongo: /'
  done
  for f in six.db six.db-wal; do [[ ! -e $f ]] || strings -a "$f" | sed "s/^/$f: /"; done
  rcli --raw EVAL "local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do out[#out + 1] = k
    if redis.call('TYPE', k).ok == 'string' then out[#out + 1] = redis.call('GET', k) end end return out" 0 "$PREFIX*" \
    | sed 's/^/redis: /'
  for f in out-file.jsonl dlq-*.jsonl; do [[ ! -e $f ]] || sed "s/^/$f: /" "$f"; done
}
stores() { # the stores a scan line names, one each (nothing when no line)
  sed -E 's/^(dlq-[a-z]+\.jsonl|[a-z.-]+):.*/\1/' | sort -u | tr '\n' ' '
}
all_stores="dlq-file.jsonl dlq-lite.jsonl dlq-mongo.jsonl dlq-my.jsonl dlq-pg.jsonl dlq-red.jsonl mongo mysql out-file.jsonl pg redis six.db "

config first "$WORK/docs.jsonl"
"$RDAPSYNC_BIN" run first.yaml >first.log 2>&1 || { tail -30 first.log >&2; fail "the first run failed"; }
scan >before.txt
for value in maren@larkspur-bindery.example Oakhurst 5555550234; do
  got="$({ grep -a -i -F -- "$value" before.txt || true; } | stores)"
  [[ "$got" == *"pg "* && "$got" == *"mysql "* && "$got" == *"mongo "* && "$got" == *"redis "* ]] ||
    fail "before the erasure '$value' should be in every database, found in: $got"
done
got="$({ grep -a -i -F maren@larkspur-bindery.example before.txt || true; } | stores)"
[[ "$got" == "$all_stores" ]] || fail "before the erasure the subject should be in every store and dead-letter file: $got"
grep -a -q "^pg: COPY public.six_${RUN}_history" before.txt || fail "the PostgreSQL history table is not in the scan"
grep -a -q "^pg: COPY public.six_${RUN} (.*, heads)" before.txt || fail "the PostgreSQL heads column is not in the scan"
got="$({ grep -a -F regions.example before.txt | grep -a -i -F maren@larkspur-bindery.example || true; } | stores)"
for s in mongo mysql pg redis six.db; do
  [[ "$got" == *"$s "* ]] || fail "before the erasure her concurrent heads should be in $s (found in: $got)"
done
log "the subject is in all six stores and every pipeline's dead letters"

"$RDAPSYNC_BIN" erase --subject email:Maren@Larkspur-Bindery.example first.yaml >erase.out 2>erase.err ||
  { cat erase.out erase.err >&2; fail "erase failed"; }
cat erase.out >&2
scan >after.txt
for value in maren@larkspur-bindery.example Oakhurst 5555550234 C20117001-EXAMPLE; do
  got="$({ grep -a -i -F -- "$value" after.txt || true; } | stores)"
  [[ -z "$got" ]] || fail "after the erasure '$value' is still in: $got"
done
got="$({ grep -a -F yusuf@tallgrass-hosting.example after.txt || true; } | stores)"
[[ "$got" == *"pg "*"redis "* ]] || fail "the erasure took other people's records too: yusuf is only in $got"
grep -a -q 'pg: .*larkspur-bindery.example' after.txt || fail "the redacting pipeline (pg) lost the record instead of redacting it"
got="$({ grep -a -F erased after.txt || true; } | stores)"
for s in mongo mysql redis six.db; do
  [[ "$got" == *"$s "* ]] || fail "her heads should stay as erased versions in $s (erased heads in: $got)"
done
grep -a -q 'pg: .*regions.example' after.txt || fail "the redacting pipeline (pg) lost her heads instead of redacting them"
log "erased: a raw scan of every store (heads and conflict logs included) finds no trace"
"$RDAPSYNC_BIN" erase --subject email:maren@larkspur-bindery.example first.yaml >again.out 2>&1 ||
  { cat again.out >&2; fail "a second erase failed"; }
grep -q "erased [1-9]" again.out && { cat again.out >&2; fail "a second erase changed something"; }

config second "$WORK/newer.jsonl"
"$RDAPSYNC_BIN" run second.yaml >second.log 2>&1 || { tail -30 second.log >&2; fail "the second run failed"; }
scan >newer.txt
got="$({ grep -a -i -F -e Oakhurst -e maren@ -e 5555550234 newer.txt || true; } | stores)"
[[ -z "$got" ]] || fail "the newer record brought the subject back into: $got"
got="$({ grep -a -F 'larkspur-bindery.example' newer.txt | grep -a -F 'redacted' || true; } | stores)"
for s in pg mysql mongo redis out-file.jsonl six.db; do
  [[ "$got" == *"$s "* ]] || fail "the newer record did not arrive redacted in $s (redacted records in: $got)"
done
log "a newer record about the subject arrived redacted in every store"

"$RDAPSYNC_BIN" audit verify audit.log || fail "audit verify refused the real trail"
grep -q '"event":"erase"' audit.log || fail "no erase line"
sed '3d' audit.log >deleted.log
status=0; "$RDAPSYNC_BIN" audit verify deleted.log >verify.out 2>&1 || status=$?
[[ $status -eq 1 ]] && grep -q "deleted.log:3:" verify.out || { cat verify.out >&2; fail "a deleted line went unnoticed"; }
log "PASS"
