#!/usr/bin/env bash
# Subject find/erase and retention purge in the Redis sink (run_subject.sh
# says what is proved); the raw scan lists every key under the prefix with
# its value (KEYS and GET inside one script), version keys included.
source "$(dirname "$0")/../redis/lib.sh"
trap 'rc=$?; if [[ $rc -eq 0 ]]; then drop_prefix; fi; (exit $rc); cleanup_work' EXIT
sink_block() {
  printf '{ plugin: redis, config: { url: "${env:RDAPSYNC_REDIS_URL}", username: "${env:RDAPSYNC_REDIS_USER}", password: "${env:RDAPSYNC_REDIS_PASSWORD}", prefix: "%s"%s } }' "$PREFIX" "${SINK_EXTRA:-}"
}
raw_scan() {
  rcli --raw EVAL "local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do out[#out + 1] = k
    if redis.call('TYPE', k).ok == 'string' then out[#out + 1] = redis.call('GET', k) end end return out" 0 "$PREFIX*"
}
source "$(dirname "$0")/run_${SUBJECT_SCENARIO:-subject}.sh"
log "PASS"
