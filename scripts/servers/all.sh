#!/usr/bin/env bash
# Starts, stops or queries several test servers at once.
#
#   all.sh start  [postgres mariadb kafka ferretdb rdap redis otelcol kafka-connect]   # default: the first four
#   all.sh stop   [...]      # idempotent, never fails for a stopped server
#   all.sh status [...]      # exit 0 only when all named servers run
#   all.sh env    [...]      # eval "$(scripts/servers/all.sh env)"
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
SERVER_NAME=all
# shellcheck source=scripts/servers/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

ALL=(postgres mariadb kafka ferretdb)

verb="${1:-}"
[[ -n "$verb" ]] || usage_exit "{start|stop|status|env} [postgres mariadb kafka ferretdb rdap redis otelcol]"
shift
names=("$@")
((${#names[@]})) || names=("${ALL[@]}")
for n in "${names[@]}"; do
  case "$n" in
    postgres|mariadb|kafka|ferretdb|rdap|redis|otelcol|kafka-connect) ;;
    *) die "unknown server '$n' (known: ${ALL[*]} rdap redis otelcol kafka-connect)" ;;
  esac
done

script() { printf '%s/%s.sh\n' "$RDAPSYNC_SERVERS_SCRIPTS" "$1"; }

case "$verb" in
  start)
    t0="$(now_ms)"
    # shellcheck disable=SC2046 # one port a word
    reserve_ports $(all_server_ports)
    for n in "${names[@]}"; do
      "$(script "$n")" start
    done
    log "started ${names[*]} in $(elapsed_s "$t0")s"
    ;;
  stop)
    # Reverse order; go on past a failure and report it at the end.
    failed=()
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do
      n="${names[i]}"
      "$(script "$n")" stop || failed+=("$n")
    done
    if ((${#failed[@]})); then
      die "could not stop: ${failed[*]}"
    fi
    ;;
  status)
    rc=0
    for n in "${names[@]}"; do
      "$(script "$n")" status || rc=1
    done
    exit "$rc"
    ;;
  env)
    for n in "${names[@]}"; do
      "$(script "$n")" env
    done
    ;;
  *) usage_exit "{start|stop|status|env} [postgres mariadb kafka ferretdb rdap redis]" ;;
esac
